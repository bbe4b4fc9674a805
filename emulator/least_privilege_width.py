"""Least privilege in width: every Resource, Principal and Condition value of an Allow, against use.

The removal replay (:mod:`emulator.least_privilege`) proves each statement and action *needed*; a
needed statement can still be wider than its use (``bucket/*`` where one key is written). Here
each value an Allow grants is compared with the recorded requests the statement granted (the
evaluator names them): the values those requests used are the narrowest grant that covers them.
Where the granted value is not exactly that, a *tightening* replaces it with the values used (a
wildcard with the names used, an unused resource, principal or condition alternative dropped, an
account principal with the roles that came), and the replay re-evaluates every recorded request
naming the policy. If every one is still allowed, the grant was wider than its use: ``wider``, a
finding unless a written reason says why AWS needs the width. If one is denied, the evaluator
needs the width for a recorded request: ``needed``.

Not tightened, with the reason as the verdict:

- a key policy's ``Resource: "*"``: in a key policy it means the key itself (*the key itself*);
- a principal pinned by an ``aws:PrincipalArn`` condition (an account principal and
  ``ArnEquals aws:PrincipalArn`` on one role admit that role alone): the condition's values are
  judged instead (*as the condition*);
- a statement no recorded request used (*not used*): its width has no recorded use to compare
  with; the removal replay requires a reason for the statement, and the security tier's static
  rules judge its scope;
- Deny statements: a wider Deny only refuses more.

Exact action names are the removal replay's concern; wildcard actions (``kms:*``) are tightened
here like the rest. What the check cannot read from the record is ``unmeasured``, a finding like
``wider``: an Allow's NotAction, NotResource or NotPrincipal, a condition operator that does not
list what it admits (Bool, Null, numeric, date, IP, negated), and a lone value no granted request
used. Pure: the replay itself runs with :func:`replay_width`.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Sequence
from typing import Any

from emulator.least_privilege import Baseline, Evaluate, Request, Step, changed_answers

# The verdicts, worst first. "wider" and "unmeasured" are findings unless a reason explains them.
WIDER, UNMEASURED = "wider", "unmeasured"
NEEDED, AS_USED, KEY_ITSELF, AS_CONDITION, NOT_USED = (
    "needed",
    "as used",
    "the key itself",
    "as the condition",
    "not used",
)
FINDINGS = (WIDER, UNMEASURED)
# Condition operators whose values say who or what is admitted (a value dropped admits less).
_ADMITTING = re.compile(
    r"^(ForAllValues:|ForAnyValue:)?(String|Arn)(Equals|Like)(IgnoreCase)?(IfExists)?$"
)
_PRINCIPAL_ARN = "aws:principalarn"
_NEGATED = ("NotAction", "NotResource", "NotPrincipal")


@dataclasses.dataclass(frozen=True)
class Element:
    """One value an Allow grants, what the recorded requests it granted used of it, and the
    tightening to replay (``status`` None) or why there is none."""

    policy: str
    index: int  # 1-based
    sid: str | None
    path: tuple[str, ...]  # ("Resource",), ("Action",), ("Principal", type), ("Condition", op, key)
    granted: str
    used: tuple[str, ...]
    status: str | None  # None: tighten to ``used``

    @property
    def field(self) -> str:
        return self.path[0]

    @property
    def label(self) -> str:
        return self.sid or f"#{self.index}"


@dataclasses.dataclass(frozen=True)
class WidthOutcome:
    element: Element
    denied: tuple[Step, ...]  # recorded requests the tightening denies

    @property
    def verdict(self) -> str:
        if self.element.status is not None:
            return self.element.status
        return NEEDED if self.denied else WIDER


@dataclasses.dataclass(frozen=True)
class WidthReplay:
    outcomes: tuple[WidthOutcome, ...]
    evaluations: int

    def for_policy(self, policy: str) -> list[WidthOutcome]:
        return [o for o in self.outcomes if o.element.policy == policy]


def matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's wildcard match: ``*`` any run of characters, ``?`` one."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch(regex, value, flags) is not None


def _account(value: str) -> str | None:
    """The account an account principal names (its root ARN or bare id), else None."""
    if re.fullmatch(r"\d{12}", value):
        return value
    found = re.fullmatch(r"arn:[\w-]+:iam::(\d{12}):root", value)
    return found[1] if found else None


def principal_covers(kind: str, value: str, principal_arn: str) -> bool:
    if value == "*":
        return True
    if kind == "Service":
        return value == principal_arn
    account = _account(value)
    if account is not None:
        parts = principal_arn.split(":")
        return len(parts) > 4 and parts[4] == account
    return matches(value, principal_arn)


def covering_pattern(values: Sequence[str]) -> str:
    """The narrowest single pattern covering the values: the value itself when there is one,
    else their common prefix and ``*`` (as the table shows what was used)."""
    distinct = sorted(set(values))
    if len(distinct) == 1:
        return distinct[0]
    prefix = distinct[0]
    for value in distinct[1:]:
        while not value.startswith(prefix):
            prefix = prefix[:-1]
    return prefix + "*"


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement") or []
    return [statements] if isinstance(statements, dict) else list(statements)


def _context(request: Request, key: str) -> list[str]:
    """A request's values of a context key (keys compare case-insensitively, as in IAM)."""
    for name, value in (request.get("context") or {}).items():
        if name.lower() == key.lower():
            return [str(v) for v in _listed(value)]
    return []


def _element(
    where: tuple[str, int, str | None, tuple[str, ...]],
    granted: str,
    used: set[str],
    alone: bool,
) -> Element:
    """The check of one value: as used, or a tightening to the values used (a value no request
    used is dropped when others remain; alone, nothing measures it)."""
    policy, index, sid, path = where
    ordered = tuple(sorted(used))
    if ordered == (granted,):
        status: str | None = AS_USED
    elif not ordered and alone:
        status = UNMEASURED
    else:
        status = None
    return Element(policy, index, sid, path, granted, ordered, status)


def elements(policy: str, document: dict[str, Any], base: Baseline) -> list[Element]:
    """Every value of every Allow statement of a policy, judged against the statement's use."""
    found: list[Element] = []
    for index, statement in enumerate(_statements(document), start=1):
        if statement.get("Effect") != "Allow":
            continue
        granted = base.granted_by(policy, index)
        found += _statement_elements(policy, index, statement, granted)
    return found


def _statement_elements(
    policy: str, index: int, statement: dict[str, Any], granted: list[Request]
) -> list[Element]:
    sid = statement.get("Sid") or None
    values = _values(statement)
    if not granted:
        return [Element(policy, index, sid, path, v, (), NOT_USED) for path, v, _ in values]
    conditions = statement.get("Condition") or {}
    pinned = any(
        _ADMITTING.match(op) and key.lower() == _PRINCIPAL_ARN
        for op, keys in conditions.items()
        for key in keys
    )
    found: list[Element] = []
    for path, value, siblings in values:
        where = (policy, index, sid, path)
        if _unmeasured(path):
            found.append(Element(policy, index, sid, path, value, (), UNMEASURED))
        elif path == ("Resource",) and value == "*" and policy.startswith("key-policy:"):
            found.append(Element(policy, index, sid, path, value, (), KEY_ITSELF))
        elif path == ("Principal", "AWS") and pinned and value != "*":
            found.append(Element(policy, index, sid, path, value, (), AS_CONDITION))
        else:
            used = _used(path, value, granted)
            found.append(_element(where, value, used, siblings == 1))
    return found


def _values(statement: dict[str, Any]) -> list[tuple[tuple[str, ...], str, int]]:
    """(path, value, how many values share the path) for the values a width check reads."""
    found: list[tuple[tuple[str, ...], str, int]] = []
    actions = _listed(statement.get("Action"))
    found += [(("Action",), a, len(actions)) for a in actions if "*" in a or "?" in a]
    resources = _listed(statement.get("Resource"))
    found += [(("Resource",), r, len(resources)) for r in resources]
    principal = statement.get("Principal")
    if principal == "*":
        found.append((("Principal", "*"), "*", 1))
    for kind, identifiers in (principal if isinstance(principal, dict) else {}).items():
        listed = _listed(identifiers)
        found += [(("Principal", kind), p, len(listed)) for p in listed]
    for op, keys in (statement.get("Condition") or {}).items():
        for key, condition_values in keys.items():
            listed = [str(v) for v in _listed(condition_values)]
            found += [(("Condition", op, key), v, len(listed)) for v in listed]
    for negated in _NEGATED:
        value = statement.get(negated)
        if isinstance(value, dict):  # NotPrincipal: {"AWS": [...]}
            found += [((negated, k), v, 0) for k, vs in value.items() for v in _listed(vs)]
        else:
            found += [((negated,), v, 0) for v in _listed(value)]
    return found


def _unmeasured(path: tuple[str, ...]) -> bool:
    """A value whose recorded use this check cannot read: a negated element (NotAction,
    NotResource, NotPrincipal: an Allow of everything but), or a condition operator that does not
    list what it admits (Bool, Null, numeric, date, IP, a negated String or Arn operator)."""
    return path[0] in _NEGATED or (path[0] == "Condition" and not _ADMITTING.match(path[1]))


def _used(path: tuple[str, ...], value: str, granted: list[Request]) -> set[str]:
    field = path[0]
    if field == "Action":
        return {r["action"] for r in granted if matches(value, r["action"], ignore_case=True)}
    if field == "Resource":
        return {r["resource"] for r in granted if matches(value, r["resource"])}
    if field == "Principal":
        kind = path[1]
        return {
            r["principal_arn"]
            for r in granted
            if principal_covers(kind, value, str(r["principal_arn"]))
        }
    op, key = path[1], path[2]
    like = "Like" in op or "Arn" in op  # ArnEquals takes wildcards too
    ignore_case = "IgnoreCase" in op
    return {
        seen
        for r in granted
        for seen in _context(r, key)
        if (matches(value, seen, ignore_case=ignore_case) if like else seen == value)
    }


def tightened(document: dict[str, Any], element: Element) -> dict[str, Any]:
    """The document with one granted value replaced by the values used (dropped if none)."""
    result = copy.deepcopy(document)
    statements = _statements(result)
    statement = statements[element.index - 1]
    used = list(element.used)
    if element.path == ("Principal", "*"):
        statement["Principal"] = {"AWS": used}
    else:
        *parents, last = element.path
        holder = statement
        for part in parents:
            holder = holder[part]
        replaced: list[str] = []
        for value in _listed(holder[last]):
            for new in used if value == element.granted else [value]:
                if new not in replaced:
                    replaced.append(new)
        holder[last] = replaced
    result["Statement"] = statements
    return result


def replay_width(base: Baseline, evaluate: Evaluate) -> WidthReplay:
    """Every value of every Allow of the replayed policies, tightened where it is not as used,
    against the recorded requests that name the policy."""
    checked = [e for policy in base.replayed for e in elements(policy, base.policies[policy], base)]
    tightenings = [e for e in checked if e.status is None]
    edits = [(e.policy, tightened(base.policies[e.policy], e), True) for e in tightenings]
    denied, evaluations = changed_answers(base, edits, evaluate)
    by_element = dict(zip(tightenings, denied, strict=True))
    outcomes = tuple(WidthOutcome(e, tuple(sorted(by_element.get(e, set())))) for e in checked)
    return WidthReplay(outcomes, evaluations)
