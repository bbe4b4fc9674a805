"""`permissions`: the ledger of the local cloud as a per-role report
(xrdeploy/console/permissions.py), the command around it (xrdeploy/cli/permissions.py) and
the emulator's side of it."""

from __future__ import annotations

import json
from typing import Any

import pytest

import emulator.permissions as emulator_permissions
from emulator.home import EmulatorError
from xrdeploy.cli.main import run
from xrdeploy.console.permissions import (
    HeldStatement,
    StatementRef,
    permission_report,
    render_json,
    render_text,
    role_report,
    unused_statements,
)
from xrdeploy.rehearsal import local_cloud

COPY = "arn:aws:iam::111111111111:role/demo-alpha-copy"
PROMOTION = "arn:aws:iam::111111111111:role/demo-beta-promotion"
ART = "arn:aws:s3:::demo-alpha-art"
SRC = "arn:aws:s3:::demo-beta-src"
KEY = "arn:aws:kms:us-west-2:111111111111:key/k1"


def _statement(policy: str, sid: str | None, index: int, effect: str = "Allow") -> dict[str, Any]:
    return {"policy": policy, "sid": sid, "index": index, "effect": effect}


def _held(policy: str, sid: str | None, index: int, action: str, resource: str) -> dict[str, Any]:
    return {**_statement(policy, sid, index), "actions": [action], "resources": [resource]}


def _decision(action: str, resource: str, decision: str, **fields: Any) -> dict[str, Any]:
    entry = {
        "action": action,
        "resource": resource,
        "decision": decision,
        "reason": "",
        "statements": [],
        "count": 1,
        "first": "2026-12-01T11:00:00Z",
        "last": "2026-12-01T11:00:00Z",
    }
    return {**entry, **fields}


LEDGER: dict[str, Any] = {
    "principals": [
        {
            "principal": PROMOTION,
            "kind": "role",
            "sessions": [f"{PROMOTION.replace(':iam:', ':sts:')}/copy"],
            "decisions": [],
            "policies": [_held("inline:promotion", "WriteBuild", 1, "s3:PutObject", f"{SRC}/*")],
        },
        {
            "principal": COPY,
            "kind": "role",
            "sessions": ["arn:aws:sts::111111111111:assumed-role/demo-alpha-copy/fn"],
            "decisions": [
                _decision(
                    "s3:GetObject",
                    f"{ART}/build.zip",
                    "allowed",
                    count=3,
                    statements=[_statement("inline:copy", "ReadArtifacts", 1)],
                    replayed=True,  # a field this report does not know: ignored
                ),
                _decision(
                    "kms:Decrypt",
                    KEY,
                    "allowed",
                    statements=[_statement(f"key-policy:{KEY}", None, 2)],
                ),
                _decision(
                    "s3:PutObject",
                    f"{SRC}/build.zip",
                    "allowed",
                    statements=[_statement("bucket-policy:demo-beta-src", "Deliver", 1)],
                ),
                _decision(
                    "s3:ListBucket",
                    ART,
                    "denied",
                    reason="because no identity-based policy allows the s3:ListBucket action",
                ),
                _decision("codepipeline:PutJobSuccessResult", "*", "unchecked", reason="no ARN"),
            ],
            "policies": [
                _held("inline:copy", "ReadArtifacts", 1, "s3:GetObject", f"{ART}/*"),
                _held("inline:copy", None, 2, "sts:AssumeRole", PROMOTION),
                {**_held("inline:copy", "NoDelete", 3, "s3:*", ART), "effect": "Deny"},
            ],
        },
    ],
    "evaluator": {"evaluations": 6, "mean_ms": 2.0, "max_ms": 9.0},
    "requests": 6,  # fields a later ledger may add are ignored
}


def test_a_role_report_groups_used_denied_and_unchecked() -> None:
    (promotion, copy) = permission_report(LEDGER)[::-1]
    assert copy.principal == COPY and copy.name == "demo-alpha-copy" and copy.kind == "role"
    assert [(d.action, d.count) for d in copy.used] == [
        ("kms:Decrypt", 1),
        ("s3:GetObject", 3),
        ("s3:PutObject", 1),
    ]
    assert [s.label for s in copy.used[1].statements] == ["inline:copy ReadArtifacts"]
    assert [s.label for s in copy.used[0].statements] == [f"key-policy:{KEY} #2"]
    (denied,) = copy.denied
    assert (denied.action, denied.resource) == ("s3:ListBucket", ART)
    assert denied.reason.startswith("because no identity-based policy allows")
    assert [d.action for d in copy.unchecked] == ["codepipeline:PutJobSuccessResult"]
    assert promotion.used == () and promotion.denied == ()


def test_unused_statements_are_the_grants_no_allow_was_decided_by() -> None:
    copy = permission_report(LEDGER, role="demo-alpha-copy")[0]
    # ReadArtifacts decided the reads, the key policy the decrypt (not held: a resource policy),
    # the Deny grants nothing: only statement 2 is left.
    assert [(u.ref.index, u.actions, u.resources) for u in copy.unused] == [
        (2, ("sts:AssumeRole",), (PROMOTION,))
    ]
    assert [g.ref.label for g in copy.granted] == ["inline:copy ReadArtifacts", "inline:copy #2"]
    (promotion,) = permission_report(LEDGER, role=PROMOTION)
    assert [u.ref.label for u in promotion.unused] == ["inline:promotion WriteBuild"]


def test_a_statement_is_matched_by_sid_when_an_index_is_missing() -> None:
    held = HeldStatement(StatementRef("inline:copy", "ReadArtifacts", None, "Allow"), (), ())
    decided = role_report(LEDGER["principals"][1]).used
    assert unused_statements([held], decided) == ()
    unnamed = HeldStatement(StatementRef("inline:copy", None, None, "Allow"), (), ())
    assert unused_statements([unnamed], decided) == (unnamed,)
    other_policy = HeldStatement(StatementRef("inline:q", "ReadArtifacts", 1, "Allow"), (), ())
    assert unused_statements([other_policy], decided) == (other_policy,)


def test_repeated_entries_are_merged_and_counted() -> None:
    raw = {
        "principal": COPY,
        "decisions": [
            _decision("s3:GetObject", "a", "allowed", count=2, last="2026-12-01T11:00:05Z"),
            _decision("s3:GetObject", "a", "allowed", count=5, first="2026-12-01T10:59:00Z"),
        ],
    }
    (used,) = role_report(raw).used
    assert (used.count, used.first, used.last) == (
        7,
        "2026-12-01T10:59:00Z",
        "2026-12-01T11:00:05Z",
    )


def test_the_parser_tolerates_missing_and_odd_fields() -> None:
    report = role_report({"principal": COPY, "decisions": [{"decision": "denied"}, "junk"]})
    assert report.kind == "principal" and report.sessions == ()
    assert [(d.action, d.count, d.statements) for d in report.denied] == [("", 0, ())]
    assert permission_report({}) == [] and permission_report({"principals": "none"}) == []


def test_the_text_report_names_every_part() -> None:
    lines = render_text(permission_report(LEDGER, role="demo-alpha-copy"))
    assert lines == [
        f"role demo-alpha-copy ({COPY})",
        "  3 used (5 requests), 1 denied, 1 unchecked; 1 of 2 granted statements never used",
        "  used (allowed, by):",
        f"    kms:Decrypt  {KEY}  x1  key-policy #2",  # the key's ARN is on the line already
        f"    s3:GetObject  {ART}/build.zip  x3  inline:copy ReadArtifacts",
        f"    s3:PutObject  {SRC}/build.zip  x1  bucket-policy Deliver",
        "  denied:",
        f"    s3:ListBucket  {ART}  x1  because no identity-based policy allows the s3:ListBucket"
        " action",
        "  unchecked (let through, the evaluator could not judge it):",
        "    codepipeline:PutJobSuccessResult  *  x1  no ARN",
        "  granted, never used:",
        f"    inline:copy #2: Allow sts:AssumeRole on {PROMOTION}",
    ]
    everyone = render_text(permission_report(LEDGER))
    assert everyone.count("") == 1  # one blank line between the two roles
    assert everyone[everyone.index("") + 1] == f"role demo-beta-promotion ({PROMOTION})"


def test_an_empty_ledger_says_what_to_run() -> None:
    assert render_text([]) == [
        "no permissions recorded: run the demo or a test against this local cloud first"
    ]


def test_the_json_report_round_trips() -> None:
    report = json.loads(json.dumps(render_json(permission_report(LEDGER), LEDGER)))
    assert report["evaluator"] == LEDGER["evaluator"]
    copy = report["principals"][0]
    assert copy["name"] == "demo-alpha-copy"
    assert copy["used"][1]["statements"] == [_statement("inline:copy", "ReadArtifacts", 1)]
    assert copy["denied"][0]["reason"].endswith("s3:ListBucket action")
    assert copy["unused"] == [_held("inline:copy", None, 2, "sts:AssumeRole", PROMOTION)]


def test_the_command_prints_one_role(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(local_cloud, "running_endpoint", lambda: "http://127.0.0.1:1")
    monkeypatch.setattr(local_cloud, "permission_ledger", lambda endpoint: LEDGER)
    assert run(["permissions", "--role", "demo-beta-promotion"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == f"role demo-beta-promotion ({PROMOTION})"
    assert printed[-1] == f"    inline:promotion WriteBuild: Allow s3:PutObject on {SRC}/*"
    assert run(["permissions", "--json"]) == 0
    names = [p["name"] for p in json.loads(capsys.readouterr().out)["principals"]]
    assert names == ["demo-alpha-copy", "demo-beta-promotion"]


def test_an_unknown_role_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(local_cloud, "running_endpoint", lambda: "http://127.0.0.1:1")
    monkeypatch.setattr(local_cloud, "permission_ledger", lambda endpoint: LEDGER)
    assert run(["permissions", "--role", "nobody"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: --role: no role or user named nobody in the permission ledger"
    ]


def test_without_a_local_cloud_it_says_how_to_start_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(local_cloud, "running_endpoint", lambda: None)
    assert run(["permissions"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "error: no local cloud is running; start one with: python main.py local up"
    ]


def test_the_emulator_refuses_a_cloud_without_iam_enforcement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(emulator_permissions, "guards", lambda endpoint: {"enforce_iam": False})
    with pytest.raises(EmulatorError, match=r"IAM is not enforced .*XRDEPLOY_ENFORCE_IAM is off"):
        emulator_permissions.fetch_permissions("http://127.0.0.1:1")
    monkeypatch.setattr(emulator_permissions, "guards", lambda endpoint: None)
    with pytest.raises(EmulatorError, match=r"no local cloud answers at http://127.0.0.1:1"):
        emulator_permissions.fetch_permissions("http://127.0.0.1:1")


def test_the_emulator_lists_one_line_per_decision() -> None:
    lines = emulator_permissions.decision_lines(LEDGER)
    assert lines[0] == f"{COPY} allowed s3:GetObject {ART}/build.zip x3"
    assert len(lines) == 5


def test_the_command_prints_resources_verbatim(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # An S3 key may hold anything, ":cloud:" too: rich must not make an emoji of it.
    key = f"{ART}/a:b:cloud:[b]build[/b].zip"
    ledger = {
        "principals": [{"principal": COPY, "decisions": [_decision("s3:GetObject", key, "denied")]}]
    }
    monkeypatch.setattr(local_cloud, "running_endpoint", lambda: "http://127.0.0.1:1")
    monkeypatch.setattr(local_cloud, "permission_ledger", lambda endpoint: ledger)
    assert run(["permissions"]) == 0
    assert f"    s3:GetObject  {key}  x1" in capsys.readouterr().out.splitlines()
