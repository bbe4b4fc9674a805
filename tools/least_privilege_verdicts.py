"""The verdicts of the least-privilege replays: which findings a written reason explains.

Pure: the replays' outcomes, the generated policies and the written reasons
(``tools/least_privilege_reasons.py``) in; what is unexplained or stale out. The integration test
(``tests/integration/chain/test_least_privilege.py``) fails on any of it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from emulator.least_privilege import Outcome, Replay
from emulator.least_privilege_width import FINDINGS, Element, WidthOutcome, WidthReplay
from tools.least_privilege_reasons import AWS_NEEDS, WIDTH_NEEDS, Need, Width

Key = tuple[str, str, str, str | None]  # (stage, kind, Sid, action removed or None)
WidthKey = tuple[str, str, str, str, str]  # (stage, kind, Sid, field, granted value's shape)


@dataclass(frozen=True)
class Generated:
    """One policy the chain's Terraform created: its guard id, stage, kind and document."""

    id: str
    stage: str
    kind: str  # "pipeline role", "pipeline role trust", "source bucket", "key", ...
    document: dict[str, Any]
    account: str = ""  # the stage's own account and region: written <account>, <region>
    region: str = ""
    app: str = ""  # the chain's app name (the prefix of its resource names): written <app>

    def shape(self, value: str) -> str:
        """A granted value as a Width names it: the chain's app name and the stage's own account,
        region and name written ``<app>``, ``<account>``, ``<region>``, ``<stage>`` (the same
        value in every stage of every chain)."""
        for own, placeholder in ((self.account, "<account>"), (self.region, "<region>")):
            if own:
                value = value.replace(own, placeholder)
        for name, placeholder in ((self.app, "<app>"), (self.stage, "<stage>")):
            if name:
                value = re.sub(
                    rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])", placeholder, value
                )
        return value


@dataclass(frozen=True)
class Reasons:
    """The written reasons, looked up for a finding."""

    needs: Sequence[Need] = AWS_NEEDS
    widths: Sequence[Width] = WIDTH_NEEDS

    def _needs(self, stage: str, kind: str, statement: str) -> list[Need]:
        return [
            n
            for n in self.needs
            if n.stage in (stage, "*") and (n.kind, n.statement) == (kind, statement)
        ]

    def for_action(self, stage: str, kind: str, statement: str, action: str) -> Need | None:
        found = [n for n in self._needs(stage, kind, statement) if action in n.actions]
        return found[0] if found else None

    def for_statement(
        self, stage: str, kind: str, statement: str, actions: Sequence[str]
    ) -> tuple[Need, ...] | None:
        """The Needs that together name every action of a statement; None if one is unnamed."""
        found: list[Need] = []
        for action in actions:
            need = self.for_action(stage, kind, statement, action)
            if need is None:
                return None
            if need not in found:
                found.append(need)
        return tuple(found)

    def for_width(self, key: WidthKey) -> Width | None:
        stage, kind, statement, field, shape = key
        found = [
            w
            for w in self.widths
            if w.stage in (stage, "*")
            and (w.kind, w.statement, w.field, w.granted) == (kind, statement, field, shape)
        ]
        return found[0] if found else None


WRITTEN = Reasons()  # the reasons of tools/least_privilege_reasons.py


def key_of(generated: Generated, outcome: Outcome) -> Key:
    return (generated.stage, generated.kind, outcome.mutation.label, outcome.mutation.action)


def width_key(generated: Generated, element: Element) -> WidthKey:
    return (
        generated.stage,
        generated.kind,
        element.label,
        element.field,
        generated.shape(element.granted),
    )


def removal_reasons(
    generated: Generated, outcome: Outcome, reasons: Reasons
) -> tuple[Need, ...] | None:
    """The Needs that explain a removal no recorded request notices; None if none does."""
    stage, kind, statement, action = key_of(generated, outcome)
    if action is not None:
        need = reasons.for_action(stage, kind, statement, action)
        return None if need is None else (need,)
    return reasons.for_statement(stage, kind, statement, outcome.mutation.actions)


def unexplained(
    result: Replay, generated: Sequence[Generated], reasons: Reasons = WRITTEN
) -> list[Key]:
    """Removals no recorded request notices and no Need explains, action by action."""
    return [
        key_of(policy, outcome)
        for policy in generated
        for outcome in result.for_policy(policy.id)
        if not outcome.changed and removal_reasons(policy, outcome, reasons) is None
    ]


def stale_reasons(
    result: Replay, generated: Sequence[Generated], reasons: Reasons = WRITTEN
) -> list[tuple[Need, str]]:
    """(Need, action) for each action a Need names that no quiet removal of it asks for: the
    action is needed after all, or no longer in the statement. A Need for a statement this chain
    does not have (a Git source's, in the S3-sourced chain) is left to the chains that have it."""
    quiet: set[tuple[str, str, str, str]] = set()
    present: set[tuple[str, str, str]] = set()
    for policy in generated:
        for outcome in result.for_policy(policy.id):
            mutation = outcome.mutation
            present |= {(stage, policy.kind, mutation.label) for stage in (policy.stage, "*")}
            if outcome.changed:
                continue
            # An action is quiet when removing it (or its statement, if it is the only one)
            # changes nothing.
            if mutation.action is not None:
                actions: tuple[str, ...] = (mutation.action,)
            elif len(mutation.actions) == 1:
                actions = mutation.actions
            else:
                actions = ()
            for action in actions:
                for stage in (policy.stage, "*"):
                    quiet.add((stage, policy.kind, mutation.label, action))
    return [
        (need, action)
        for need in reasons.needs
        if (need.stage, need.kind, need.statement) in present
        for action in need.actions
        if (need.stage, need.kind, need.statement, action) not in quiet
    ]


def width_findings(
    result: WidthReplay, generated: Sequence[Generated], reasons: Reasons = WRITTEN
) -> list[WidthKey]:
    """Values wider than their recorded use (or unmeasured) that no Width explains."""
    return [
        width_key(policy, outcome.element)
        for policy in generated
        for outcome in result.for_policy(policy.id)
        if outcome.verdict in FINDINGS
        and reasons.for_width(width_key(policy, outcome.element)) is None
    ]


def stale_widths(
    result: WidthReplay, generated: Sequence[Generated], reasons: Reasons = WRITTEN
) -> list[Width]:
    """Widths whose value is not (or no longer) wider than its use in any stage they name. A
    Width for a statement this chain does not have is left to the chains that have it."""
    wide: set[WidthKey] = set()
    present: set[tuple[str, str, str]] = set()
    for policy in generated:
        for outcome in result.for_policy(policy.id):
            label = outcome.element.label
            present |= {(stage, policy.kind, label) for stage in (policy.stage, "*")}
            if outcome.verdict in FINDINGS:
                key = width_key(policy, outcome.element)
                wide |= {key, ("*", *key[1:])}
    return [
        w
        for w in reasons.widths
        if (w.stage, w.kind, w.statement) in present
        and (w.stage, w.kind, w.statement, w.field, w.granted) not in wide
    ]


def width_reason(
    generated: Generated, outcome: WidthOutcome, reasons: Reasons = WRITTEN
) -> Width | None:
    return reasons.for_width(width_key(generated, outcome.element))


def findings(
    removals: Replay,
    width: WidthReplay,
    generated: Sequence[Generated],
    reasons: Reasons = WRITTEN,
) -> list[str]:
    """Everything that fails the proof, one line each."""
    lines = [
        f"{stage} {kind} {statement}: removing {action or 'the statement'} denies no recorded "
        "request and no Need names it"
        for stage, kind, statement, action in unexplained(removals, generated, reasons)
    ]
    lines += [
        f"{need.stage} {need.kind} {need.statement}: the Need for {action} is stale"
        for need, action in stale_reasons(removals, generated, reasons)
    ]
    lines += [
        f"{stage} {kind} {statement}: {field} {shape} is wider than its recorded use and no "
        "Width explains it"
        for stage, kind, statement, field, shape in width_findings(width, generated, reasons)
    ]
    lines += [
        f"{w.stage} {w.kind} {w.statement}: the Width for {w.field} {w.granted} is stale"
        for w in stale_widths(width, generated, reasons)
    ]
    return lines
