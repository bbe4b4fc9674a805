"""The least-privilege verdicts: a reason explains exactly what it names, and goes stale.

Outcomes are built by hand (what the replays report); the reasons are given, not the written ones.
"""

from __future__ import annotations

from typing import Any

from emulator.least_privilege import Mutation, Outcome, Replay
from emulator.least_privilege_width import Element, WidthOutcome, WidthReplay
from tools.least_privilege_reasons import AWS_NEEDS, WIDTH_NEEDS, Need, Width
from tools.least_privilege_table import Labels, markdown
from tools.least_privilege_verdicts import (
    Generated,
    Reasons,
    findings,
    stale_reasons,
    stale_widths,
    unexplained,
    width_findings,
)

ROLE = "arn:aws:iam::111111111111:role/xrdeploy-demo-beta-codedeploy"
POLICY = f"{ROLE}:inline:permissions"
FIND = ("ec2:DescribeInstances", "ec2:DescribeInstanceStatus", "tag:GetResources")
GENERATED = Generated(POLICY, "beta", "CodeDeploy role", {}, "111111111111", "us-east-1")
NEED = Need("*", "CodeDeploy role", "FindInstancesByTag", FIND, "aws", "CodeDeploy does it")
BUCKET = "arn:aws:s3:::xrdeploy-demo-beta-src-111111111111-us-east-1"


def _quiet(actions: tuple[str, ...]) -> Replay:
    """The removal replay of one statement that no recorded request needs, nor any action."""
    statement = Mutation(POLICY, 1, "FindInstancesByTag", "Allow", actions)
    removals = [statement] + [
        Mutation(POLICY, 1, "FindInstancesByTag", "Allow", actions, a) for a in actions
    ]
    return Replay(tuple(Outcome(m, ()) for m in removals), 0, 0, ())


def test_a_reason_explains_exactly_the_actions_it_names() -> None:
    reasons = Reasons(needs=(NEED,), widths=())
    assert unexplained(_quiet(FIND), [GENERATED], reasons) == []
    # WHEN an action is added to the statement, neither it nor the statement is explained
    added = (*FIND, "ec2:TerminateInstances")
    assert unexplained(_quiet(added), [GENERATED], reasons) == [
        ("beta", "CodeDeploy role", "FindInstancesByTag", None),
        ("beta", "CodeDeploy role", "FindInstancesByTag", "ec2:TerminateInstances"),
    ]


def test_a_reason_for_an_action_gone_or_needed_is_stale() -> None:
    reasons = Reasons(needs=(NEED,), widths=())
    assert stale_reasons(_quiet(FIND), [GENERATED], reasons) == []
    assert stale_reasons(_quiet(FIND[:2]), [GENERATED], reasons) == [(NEED, "tag:GetResources")]


def _width(granted: str, used: tuple[str, ...], denied: tuple[Any, ...] = ()) -> WidthReplay:
    element = Element(POLICY, 1, "ReadSource", ("Resource",), granted, used, None)
    return WidthReplay((WidthOutcome(element, denied),), 1)


def test_a_wider_value_needs_a_width_naming_its_shape() -> None:
    # GIVEN a bucket grant no recorded request used, and a Width for it in every stage
    width = _width(BUCKET, ())
    shape = "arn:aws:s3:::xrdeploy-demo-<stage>-src-<account>-<region>"
    assert GENERATED.shape(BUCKET) == shape
    explained = Width("*", "CodeDeploy role", "ReadSource", "Resource", shape, "aws", "why")
    key = ("beta", "CodeDeploy role", "ReadSource", "Resource", shape)
    assert width_findings(width, [GENERATED], Reasons((), (explained,))) == []
    assert width_findings(width, [GENERATED], Reasons((), ())) == [key]
    # ... and once the tightening denies a recorded request, the Width is stale
    needed = _width(BUCKET, (), denied=(("role", "s3:GetBucketVersioning", BUCKET),))
    assert width_findings(needed, [GENERATED], Reasons((), ())) == []
    assert stale_widths(needed, [GENERATED], Reasons((), (explained,))) == [explained]


def test_the_findings_are_one_line_each() -> None:
    added = _quiet((*FIND, "ec2:TerminateInstances"))
    width = _width(BUCKET, ())
    assert findings(added, width, [GENERATED], Reasons((NEED,), ())) == [
        "beta CodeDeploy role FindInstancesByTag: removing the statement denies no recorded "
        "request and no Need names it",
        "beta CodeDeploy role FindInstancesByTag: removing ec2:TerminateInstances denies no "
        "recorded request and no Need names it",
        "beta CodeDeploy role ReadSource: Resource "
        "arn:aws:s3:::xrdeploy-demo-<stage>-src-<account>-<region> is wider than its recorded "
        "use and no Width explains it",
    ]
    assert findings(_quiet(FIND), WidthReplay((), 0), [GENERATED], Reasons((NEED,), ())) == []


def test_the_shape_replaces_only_the_stages_own_names() -> None:
    assert GENERATED.shape("arn:aws:iam::222222222222:role/xrdeploy-demo-betamax") == (
        "arn:aws:iam::222222222222:role/xrdeploy-demo-betamax"
    )
    assert GENERATED.shape("arn:aws:logs:us-east-1:111111111111:log-group:/x/beta-promote:*") == (
        "arn:aws:logs:<region>:<account>:log-group:/x/<stage>-promote:*"
    )


def test_the_shape_writes_the_chains_app_name() -> None:
    # GIVEN a policy of a chain whose app is gitlocal
    generated = Generated(
        POLICY, "beta", "pipeline role", {}, "111111111111", "us-east-1", "gitlocal"
    )
    # THEN its resource names take the same shape as the default chain's
    assert generated.shape("arn:aws:s3:::gitlocal-beta-art-111111111111-us-east-1/*") == (
        "arn:aws:s3:::<app>-<stage>-art-<account>-<region>/*"
    )
    assert generated.shape("arn:aws:codecommit:us-east-1:111111111111:gitlocals") == (
        "arn:aws:codecommit:<region>:<account>:gitlocals"
    )


def test_a_reason_for_a_statement_the_chain_lacks_is_left_to_the_chains_that_have_it() -> None:
    # GIVEN a Need and a Width for a statement the replayed chain does not have
    other = Need(
        "*", "pipeline role", "UseConnection", ("codeconnections:UseConnection",), "aws", ""
    )
    other_width = Width("*", "CodeDeploy role", "Absent", "Resource", "*", "aws", "")
    reasons = Reasons(needs=(NEED, other), widths=(other_width,))
    # THEN neither is stale there; the Need for a statement it has still is, once needed
    assert stale_reasons(_quiet(FIND), [GENERATED], reasons) == []
    assert stale_reasons(_quiet(FIND[:2]), [GENERATED], reasons) == [(NEED, "tag:GetResources")]
    assert stale_widths(_width(BUCKET, ()), [GENERATED], reasons) == []


def test_the_written_reasons_name_actions_and_values_once() -> None:
    assert all(need.actions and len(set(need.actions)) == len(need.actions) for need in AWS_NEEDS)
    keys = [(w.stage, w.kind, w.statement, w.field, w.granted) for w in WIDTH_NEEDS]
    assert len(keys) == len(set(keys))


def test_the_table_shows_each_value_granted_used_and_its_verdict() -> None:
    removals = _quiet(FIND)
    width = _width(BUCKET, ())
    table = markdown(removals, width, [GENERATED], Labels([GENERATED], {}), Reasons((NEED,), ()))
    row = next(line for line in table.splitlines() if "statement (Allow)" in line)
    assert row.endswith(f"| Resource `{BUCKET}` → none: **wider, unexplained** |"), row
    assert "**nothing** (aws): CodeDeploy does it" in row


def test_the_table_lists_a_few_values_used_and_covers_many_with_a_pattern() -> None:
    element = Element(POLICY, 1, "S", ("Action",), "kms:*", ("kms:Decrypt", "kms:Encrypt"), None)
    width = WidthReplay((WidthOutcome(element, ()),), 1)
    table = markdown(_quiet(FIND), width, [GENERATED], Labels([GENERATED], {}), Reasons((), ()))
    assert "Action `kms:*` → `kms:Decrypt`, `kms:Encrypt`: **wider, unexplained**" in table
    many = tuple(f"{BUCKET}/build/{n}" for n in range(4))
    element = Element(POLICY, 1, "S", ("Resource",), f"{BUCKET}/*", many, None)
    width = WidthReplay((WidthOutcome(element, ((ROLE, "s3:PutObject", many[0]),)),), 1)
    table = markdown(_quiet(FIND), width, [GENERATED], Labels([GENERATED], {}), Reasons((), ()))
    assert f"Resource `{BUCKET}/*` → `{BUCKET}/build/*` (4 values): needed" in table
