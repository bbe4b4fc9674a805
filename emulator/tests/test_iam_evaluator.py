"""The Node IAM evaluator (``emulator/iam_evaluator``) and its Python client, without LocalStack.

Runs the real ``server.mjs`` with ``@cloud-copilot/iam-simulate`` (``npm ci`` in
``emulator/iam_evaluator`` first): AWS's evaluation rules as the guard relies on them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from xrdeploy_local_cloud.iam.checks import Check, NamedPolicy, Principal
from xrdeploy_local_cloud.iam.evaluator import (
    Evaluator,
    EvaluatorUnavailable,
    evaluator_command,
)
from xrdeploy_local_cloud.iam.simulation import grants, simulation

EVALUATOR_DIR = Path(__file__).resolve().parents[1] / "iam_evaluator"

SESSION = Principal(
    arn="arn:aws:sts::111111111111:assumed-role/copy/fn",
    principal_arn="arn:aws:iam::111111111111:role/copy",
    account_id="111111111111",
    kind="role",
    name="copy",
)
OBJECT = "arn:aws:s3:::bucket/build.zip"


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action: str, resource: str, **more: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **more}


@pytest.fixture(scope="module")
def evaluator() -> Iterator[Evaluator]:
    client = Evaluator(evaluator_command({"XRDEPLOY_IAM_EVALUATOR": str(EVALUATOR_DIR)}))
    yield client
    client.close()


def _evaluate(
    evaluator: Evaluator,
    check: Check,
    identity: list[dict[str, Any]],
    secure: bool = True,
) -> dict[str, Any]:
    policies = [NamedPolicy(f"inline:p{i}", doc) for i, doc in enumerate(identity, 1)]
    base = {"aws:SecureTransport": "true" if secure else "false"}
    return evaluator.evaluate(simulation(SESSION, check, policies, [], base))


def test_same_account_identity_grant_allows_and_names_its_statement(
    evaluator: Evaluator,
) -> None:
    check = Check("s3:GetObject", OBJECT, "111111111111")
    answer = _evaluate(evaluator, check, [_policy(_allow("s3:GetObject", "*", Sid="Read"))])
    assert answer["result"] == "Allowed"
    assert grants(answer, check) == [
        {"policy": "inline:p1", "sid": "Read", "index": 1, "effect": "Allow"}
    ]


def test_without_a_grant_the_denial_is_implicit_in_identity(evaluator: Evaluator) -> None:
    answer = _evaluate(evaluator, Check("s3:ListBucket", "arn:aws:s3:::bucket", "111111111111"), [])
    assert answer["result"] == "ImplicitlyDenied"
    assert answer["denials"] == [{"policyType": "identity", "denialType": "Implicit"}]


def test_cross_account_needs_both_sides(evaluator: Evaluator) -> None:
    identity = [_policy(_allow("s3:GetObject", "*"))]
    admits_other = NamedPolicy(
        "bucket-policy:bucket",
        _policy(
            _allow("s3:GetObject", OBJECT, Principal={"AWS": "arn:aws:iam::333333333333:root"})
        ),
    )
    check = Check("s3:GetObject", OBJECT, "222222222222", resource_policy=admits_other)
    answer = _evaluate(evaluator, check, identity)
    assert answer["result"] == "ImplicitlyDenied"
    assert [d["policyType"] for d in answer["denials"]] == ["resource"]
    admits_role = NamedPolicy(
        "bucket-policy:bucket",
        _policy(_allow("s3:GetObject", OBJECT, Principal={"AWS": SESSION.principal_arn})),
    )
    check = Check("s3:GetObject", OBJECT, "222222222222", resource_policy=admits_role)
    assert _evaluate(evaluator, check, identity)["result"] == "Allowed"
    assert _evaluate(evaluator, check, [])["result"] == "ImplicitlyDenied"


def test_secure_transport_deny_in_the_bucket_policy(evaluator: Evaluator) -> None:
    tls_only = NamedPolicy(
        "bucket-policy:bucket",
        _policy(
            {
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": "arn:aws:s3:::bucket/*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ),
    )
    check = Check("s3:GetObject", OBJECT, "111111111111", resource_policy=tls_only)
    identity = [_policy(_allow("s3:GetObject", "*"))]
    plain = _evaluate(evaluator, check, identity, secure=False)
    assert plain["result"] == "ExplicitlyDenied"
    assert plain["denials"][0]["statementId"] == "TlsOnly"
    assert _evaluate(evaluator, check, identity, secure=True)["result"] == "Allowed"


def test_kms_key_policy_must_delegate_to_the_account(evaluator: Evaluator) -> None:
    key = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    identity = [_policy(_allow("kms:Decrypt", key))]
    delegating = NamedPolicy(
        "key-policy",
        _policy(
            _allow("kms:*", "*", Principal={"AWS": "arn:aws:iam::111111111111:root"}),
        ),
    )
    nobody = NamedPolicy("key-policy", _policy(_allow("kms:*", "*", Principal={"AWS": "x"})))
    allowed = Check("kms:Decrypt", key, "111111111111", resource_policy=delegating)
    assert _evaluate(evaluator, allowed, identity)["result"] == "Allowed"
    denied = Check("kms:Decrypt", key, "111111111111", resource_policy=nobody)
    assert _evaluate(evaluator, denied, identity)["result"] != "Allowed"


def test_an_unknown_action_is_an_error_not_a_decision(evaluator: Evaluator) -> None:
    answer = _evaluate(evaluator, Check("s3:NoSuchAction", OBJECT, "111111111111"), [])
    assert "error" in answer


def test_stats_measure_each_round_trip(evaluator: Evaluator) -> None:
    before = evaluator.stats()["evaluations"]
    _evaluate(evaluator, Check("s3:GetObject", OBJECT, "111111111111"), [])
    stats = evaluator.stats()
    assert stats["evaluations"] == before + 1
    assert 0 < stats["mean_ms"] <= stats["max_ms"]


def test_a_missing_install_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(EvaluatorUnavailable, match="is not set"):
        evaluator_command({})
    (tmp_path / "server.mjs").write_text("")
    with pytest.raises(EvaluatorUnavailable, match="run `npm ci`"):
        evaluator_command({"XRDEPLOY_IAM_EVALUATOR": str(tmp_path)})
