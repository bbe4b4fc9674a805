"""The least-privilege table of docs/security-scan.md: each statement and action, the chain step
that fails without it, and the width of each value it grants (granted, used, verdict).

Pure: the replays' outcomes, the generated policies and labels in; Markdown out.
``make least-privilege`` (the integration test with ``XRDEPLOY_UPDATE_DOCS=1``) writes it.
"""

from __future__ import annotations

import re
from pathlib import Path

from emulator.least_privilege import Outcome, Replay, Step
from emulator.least_privilege_width import (
    FINDINGS,
    WidthOutcome,
    WidthReplay,
    covering_pattern,
)
from tools.least_privilege_reasons import CATEGORIES
from tools.least_privilege_verdicts import (
    WRITTEN,
    Generated,
    Reasons,
    key_of,
    removal_reasons,
    width_reason,
)

DOC = Path(__file__).resolve().parents[1] / "docs" / "security-scan.md"
# The doc's generated sections, one per replayed chain, each between its begin and end markers.
DEFAULT_CHAIN, GIT_CHAIN = "least-privilege", "least-privilege-git"
MAX_STEPS = 4
MAX_USED = 3


class Labels:
    """Short names for the table: roles by stage and kind, keys by alias, random names as *."""

    def __init__(self, generated: list[Generated], key_aliases: dict[str, str]) -> None:
        self._roles = {
            g.id.removeprefix("trust-policy:"): f"{g.stage} {g.kind.removesuffix(' trust')}"
            for g in generated
            if g.id.startswith("trust-policy:")
        }
        self._keys = key_aliases

    def step(self, step: Step) -> str:
        principal, action, resource = step
        return f"{self._roles.get(principal, principal)}: `{action}` on `{self.resource(resource)}`"

    def resource(self, resource: str) -> str:
        if resource in self._keys:
            return f"key {self._keys[resource]}"
        if resource in self._roles:
            return f"role {self._roles[resource]}"
        # Artifact objects carry a random name per execution; log streams a random id.
        resource = re.sub(r"^(arn:aws:s3:::[^/]+-art-[^/]+/[^/]+/[^/]+/)[^/]+$", r"\1*", resource)
        return re.sub(r":log-stream:.*$", ":log-stream:*", resource)


def markdown(
    result: Replay,
    width: WidthReplay,
    generated: list[Generated],
    labels: Labels,
    reasons: Reasons = WRITTEN,
) -> str:
    """One table per stage: every statement and action removed, what fails without it, and (on
    the statement's row) the width of each value it grants."""
    kinds = {g.id: g.kind for g in generated}
    tightened = sum(1 for o in width.outcomes if o.element.status is None)
    lines = [
        f"Replayed {result.requests} recorded requests against {len(result.outcomes)} removals "
        f"and {tightened} tightenings of {len(width.outcomes)} granted values "
        f"({result.evaluations + width.evaluations} evaluations).",
    ]
    for stage in dict.fromkeys(g.stage for g in generated):
        lines += [
            "",
            f"#### {stage}",
            "",
            "| policy | statement | removed | fails without it | width: granted → used: verdict |",
            "|---|---|---|---|---|",
        ]
        for policy in (g for g in generated if g.stage == stage):
            widths = width.for_policy(policy.id)
            for outcome in result.for_policy(policy.id):
                own = [w for w in widths if w.element.index == outcome.mutation.index]
                cell = (
                    _width_cell(policy, own, labels, reasons) if not outcome.mutation.action else ""
                )
                lines.append(_row(policy, outcome, labels, kinds, reasons) + f" {cell} |")
    lines += ["", 'Categories of "nothing" and of "wider":', ""]
    lines += [f"- *{name}*: {meaning}" for name, meaning in CATEGORIES.items()]
    lines += ["", "#### Reported for removal (nothing needs them)", ""]
    reported = unneeded(result, generated, reasons)
    for (kind, what, why), stages in reported.items():
        lines.append(f"- {kind}, {what} ({', '.join(stages)}): {why}")
    if not reported:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def _row(
    policy: Generated, outcome: Outcome, labels: Labels, kinds: dict[str, str], reasons: Reasons
) -> str:
    mutation = outcome.mutation
    removed = f"`{mutation.action}`" if mutation.action else f"statement ({mutation.effect})"
    if outcome.changed:
        shown = sorted({labels.step(step) for step in outcome.changed})
        more = len(shown) - MAX_STEPS
        cell = "<br>".join(shown[:MAX_STEPS]) + (f"<br>… and {more} more" if more > 0 else "")
    else:
        cell = "**nothing** " + _why(policy, outcome, reasons)
        if outcome.also_granted_by:
            others = ", ".join(sorted({_grant(grant, kinds) for grant in outcome.also_granted_by}))
            cell += f"; also granted by {others}"
    return f"| {policy.kind} | {mutation.label} | {removed} | {cell} |"


def _why(policy: Generated, outcome: Outcome, reasons: Reasons) -> str:
    found = removal_reasons(policy, outcome, reasons)
    if found is None:
        return "(unexplained)"
    return "; ".join(f"({need.category}): {need.why}" for need in found)


def _width_cell(
    policy: Generated, outcomes: list[WidthOutcome], labels: Labels, reasons: Reasons
) -> str:
    parts = []
    for outcome in outcomes:
        element = outcome.element
        where = " ".join(element.path)  # "Resource", "Principal AWS", "Condition ArnEquals key"
        granted = f"{where} `{_label(element.field, element.granted, labels)}`"
        verdict = outcome.verdict
        if element.status is None or verdict in FINDINGS:
            used = sorted({_label(element.field, value, labels) for value in element.used})
            granted += f" → {_used(used)}"
        if verdict in FINDINGS:
            reason = width_reason(policy, outcome, reasons)
            verdict = (
                f"**{verdict}, unexplained**"
                if reason is None
                else f"{verdict} ({reason.category}): {reason.why}"
            )
        parts.append(f"{granted}: {verdict}")
    return "<br>".join(parts) if parts else "—"


def _used(values: list[str]) -> str:
    """The values used: each of a few, else the narrowest pattern covering them all."""
    if not values:
        return "none"
    if len(values) <= MAX_USED:
        return ", ".join(f"`{value}`" for value in values)
    return f"`{covering_pattern(values)}` ({len(values)} values)"


def _label(field: str, value: str, labels: Labels) -> str:
    return labels.resource(value) if field in ("Resource", "Principal", "Condition") else value


def _grant(grant: str, kinds: dict[str, str]) -> str:
    policy, _, index = grant.rpartition("#")
    return f"{kinds.get(policy, policy)} #{index}"


def unneeded(
    result: Replay, generated: list[Generated], reasons: Reasons = WRITTEN
) -> dict[tuple[str, str, str], list[str]]:
    """What is reported for removal from the generator: (policy kind, what, why) → stages. An
    action is listed only where its statement as a whole is not."""
    found: dict[tuple[str, str, str], list[str]] = {}
    for policy in generated:
        for outcome in result.for_policy(policy.id):
            explained = removal_reasons(policy, outcome, reasons)
            if outcome.changed or not explained or explained[0].category != "unneeded":
                continue
            stage, kind, statement, action = key_of(policy, outcome)
            whole = reasons.for_statement(stage, kind, statement, outcome.mutation.actions)
            if action is not None and whole is not None and whole == explained:
                continue
            what = f"`{action}` of {statement}" if action else statement
            found.setdefault((kind, what, explained[0].why), []).append(stage)
    return found


def write_doc(table: str, doc: Path = DOC, section: str = DEFAULT_CHAIN) -> None:
    """Replace one generated section of the doc (between its begin and end markers)."""
    text = doc.read_text()
    begin, end_marker = f"<!-- {section}:begin -->", f"<!-- {section}:end -->"
    start, end = text.index(begin) + len(begin), text.index(end_marker)
    doc.write_text(text[:start] + "\n" + table + text[end:])
