"""`permissions`: the local cloud's permission ledger as a per-role report (pure; no I/O).

The ledger (served by the local cloud, see emulator/README.md "IAM policies") holds, per
principal, each (action, resource) it was allowed, denied or not judged ("unchecked"), with
counts and the deciding statements, and the identity-policy statements the principal holds. A
report adds what the ledger cannot say by itself: which granted statements no allowed request
was decided by. Unknown fields are ignored, so the ledger may grow without breaking this.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

ALLOWED, DENIED, UNCHECKED = "allowed", "denied", "unchecked"


@dataclass(frozen=True)
class StatementRef:
    """One statement of one policy, as the ledger names it (index is 1-based)."""

    policy: str
    sid: str | None
    index: int | None
    effect: str

    @property
    def label(self) -> str:
        return f"{self.policy} {self.sid}" if self.sid else f"{self.policy} #{self.index}"

    def same_statement(self, other: StatementRef) -> bool:
        if self.policy != other.policy:
            return False
        if self.index is not None and other.index is not None:
            return self.index == other.index
        return bool(self.sid) and self.sid == other.sid


@dataclass(frozen=True)
class Decision:
    action: str
    resource: str
    count: int
    reason: str
    statements: tuple[StatementRef, ...]
    first: str
    last: str


@dataclass(frozen=True)
class HeldStatement:
    ref: StatementRef
    actions: tuple[str, ...]
    resources: tuple[str, ...]


@dataclass(frozen=True)
class RoleReport:
    principal: str
    kind: str
    sessions: tuple[str, ...]
    used: tuple[Decision, ...]
    denied: tuple[Decision, ...]
    unchecked: tuple[Decision, ...]
    granted: tuple[HeldStatement, ...]  # the Allow statements it holds
    unused: tuple[HeldStatement, ...]  # those no allowed request was decided by

    @property
    def name(self) -> str:
        """The role's (or user's) name: the ARN's last path segment."""
        return self.principal.rsplit("/", 1)[-1]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _listed(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [] if value is None else [value]
    return tuple(_text(item) for item in items)


def _ref(raw: Mapping[str, Any]) -> StatementRef:
    return StatementRef(
        policy=_text(raw.get("policy")),
        sid=_text(raw.get("sid")) or None,
        index=_int(raw.get("index")),
        effect=_text(raw.get("effect")),
    )


def _mappings(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _decisions(raw: Iterable[Mapping[str, Any]], kind: str) -> tuple[Decision, ...]:
    """The ledger's entries of one kind, merged by (action, resource), sorted."""
    merged: dict[tuple[str, str], Decision] = {}
    for entry in raw:
        if entry.get("decision") != kind:
            continue
        decision = Decision(
            action=_text(entry.get("action")),
            resource=_text(entry.get("resource")),
            count=_int(entry.get("count")) or 0,
            reason=_text(entry.get("reason")),
            statements=tuple(_ref(s) for s in _mappings(entry.get("statements"))),
            first=_text(entry.get("first")),
            last=_text(entry.get("last")),
        )
        key = (decision.action, decision.resource)
        if key in merged:
            decision = _merge(merged[key], decision)
        merged[key] = decision
    return tuple(merged[key] for key in sorted(merged))


def _merge(old: Decision, new: Decision) -> Decision:
    statements = old.statements + tuple(s for s in new.statements if s not in old.statements)
    return Decision(
        action=old.action,
        resource=old.resource,
        count=old.count + new.count,
        reason=new.reason or old.reason,
        statements=statements,
        first=min(filter(None, (old.first, new.first)), default=""),
        last=max(old.last, new.last),
    )


def unused_statements(
    granted: Sequence[HeldStatement], used: Sequence[Decision]
) -> tuple[HeldStatement, ...]:
    """The granted statements that decided none of the allowed requests."""
    deciders = [ref for decision in used for ref in decision.statements]
    return tuple(
        held for held in granted if not any(held.ref.same_statement(ref) for ref in deciders)
    )


def role_report(raw: Mapping[str, Any]) -> RoleReport:
    """One principal of the ledger's answer as a report."""
    entries = _mappings(raw.get("decisions"))
    used = _decisions(entries, ALLOWED)
    held = [
        HeldStatement(_ref(s), _listed(s.get("actions")), _listed(s.get("resources")))
        for s in _mappings(raw.get("policies"))
    ]
    granted = tuple(h for h in held if h.ref.effect == "Allow")
    return RoleReport(
        principal=_text(raw.get("principal")),
        kind=_text(raw.get("kind")) or "principal",
        sessions=_listed(raw.get("sessions")),
        used=used,
        denied=_decisions(entries, DENIED),
        unchecked=_decisions(entries, UNCHECKED),
        granted=granted,
        unused=unused_statements(granted, used),
    )


def permission_report(ledger: Mapping[str, Any], role: str | None = None) -> list[RoleReport]:
    """Every principal of the ledger (or only ROLE: its name or ARN), sorted by ARN."""
    reports = [role_report(raw) for raw in _mappings(ledger.get("principals"))]
    if role is not None:
        reports = [r for r in reports if role in (r.name, r.principal)]
    return sorted(reports, key=lambda report: report.principal)


def _decision_line(decision: Decision, detail: str) -> str:
    return f"    {decision.action}  {decision.resource}  x{decision.count}" + (
        f"  {detail}" if detail else ""
    )


def _label_for(ref: StatementRef, resource: str) -> str:
    """A resource policy named after the resource it decided on (``key-policy:<key arn>``,
    ``trust-policy:<role arn>``, ``bucket-policy:<bucket>`` for the bucket or one of its
    objects) is shown by its kind only: the line names the resource already."""
    kind, _, name = ref.policy.partition(":")
    if (
        kind.endswith("-policy")
        and name
        and (name == resource or resource.endswith(f":::{name}") or f":::{name}/" in resource)
    ):
        return StatementRef(kind, ref.sid, ref.index, ref.effect).label
    return ref.label


def _summary(report: RoleReport) -> str:
    requests = sum(d.count for d in report.used)
    return (
        f"  {len(report.used)} used ({requests} requests), {len(report.denied)} denied, "
        f"{len(report.unchecked)} unchecked; "
        f"{len(report.unused)} of {len(report.granted)} granted statements never used"
    )


def render_role(report: RoleReport) -> list[str]:
    """The text report of one principal."""
    lines = [f"{report.kind} {report.name} ({report.principal})", _summary(report)]
    if report.used:
        lines.append("  used (allowed, by):")
        for decision in report.used:
            by = ", ".join(_label_for(ref, decision.resource) for ref in decision.statements)
            lines.append(_decision_line(decision, by))
    if report.denied:
        lines.append("  denied:")
        lines += [_decision_line(d, d.reason) for d in report.denied]
    if report.unchecked:
        lines.append("  unchecked (let through, the evaluator could not judge it):")
        lines += [_decision_line(d, d.reason) for d in report.unchecked]
    if report.unused:
        lines.append("  granted, never used:")
        for held in report.unused:
            lines.append(
                f"    {held.ref.label}: {held.ref.effect} {', '.join(held.actions)}"
                f" on {', '.join(held.resources)}"
            )
    return lines


def render_text(reports: Sequence[RoleReport]) -> list[str]:
    """The whole text report; a blank line between principals."""
    if not reports:
        return ["no permissions recorded: run the demo or a test against this local cloud first"]
    lines: list[str] = []
    for report in reports:
        lines += ([""] if lines else []) + render_role(report)
    return lines


def render_json(reports: Sequence[RoleReport], ledger: Mapping[str, Any]) -> dict[str, Any]:
    """The report for machines: per principal its decisions and unused statements."""

    def held(statement: HeldStatement) -> dict[str, Any]:
        return {
            **asdict(statement.ref),
            "actions": list(statement.actions),
            "resources": list(statement.resources),
        }

    return {
        "principals": [
            {
                "principal": r.principal,
                "name": r.name,
                "kind": r.kind,
                "sessions": list(r.sessions),
                "used": [asdict(d) for d in r.used],
                "denied": [asdict(d) for d in r.denied],
                "unchecked": [asdict(d) for d in r.unchecked],
                "unused": [held(s) for s in r.unused],
            }
            for r in reports
        ],
        "evaluator": ledger.get("evaluator"),
    }
