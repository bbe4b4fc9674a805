"""The permission ledger and the wording of AWS's access-denied messages, without LocalStack."""

from __future__ import annotations

from xrdeploy_local_cloud.iam.checks import NamedPolicy
from xrdeploy_local_cloud.iam.ledger import Ledger
from xrdeploy_local_cloud.iam.messages import denial_reason, message
from xrdeploy_local_cloud.iam.simulation import statements_of

ROLE = "arn:aws:iam::111111111111:role/promotion"
SESSION = "arn:aws:sts::111111111111:assumed-role/promotion/copy"
READ = {"policy": "inline:p", "sid": "Read", "index": 1, "effect": "Allow"}


def _record(ledger: Ledger, decision: str, action: str = "s3:GetObject") -> None:
    ledger.record(
        principal=ROLE,
        kind="role",
        session=SESSION,
        action=action,
        resource="arn:aws:s3:::b/k",
        decision=decision,
        statements=[READ] if decision == "allowed" else [],
        policies=[READ],
    )


def test_the_ledger_counts_each_decision_once_per_action_and_resource() -> None:
    ledger = Ledger()
    _record(ledger, "allowed")
    _record(ledger, "allowed")
    _record(ledger, "denied", "s3:ListBucket")
    (principal,) = ledger.to_json()
    assert principal["principal"] == ROLE
    assert principal["sessions"] == [SESSION]
    assert principal["policies"] == [READ]
    counts = {(d["action"], d["decision"]): d["count"] for d in principal["decisions"]}
    assert counts == {("s3:GetObject", "allowed"): 2, ("s3:ListBucket", "denied"): 1}
    assert principal["decisions"][0]["statements"] == [READ]
    assert ledger.clear() == 2
    assert ledger.to_json() == []


def test_statements_are_named_by_policy_sid_and_index() -> None:
    document = {
        "Statement": [
            {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"},
        ]
    }
    assert statements_of([NamedPolicy("inline:p", document)]) == [
        {**READ, "actions": ["s3:GetObject"], "resources": ["*"]},
        {
            "policy": "inline:p",
            "sid": None,
            "index": 2,
            "effect": "Deny",
            "actions": ["s3:DeleteObject"],
            "resources": ["*"],
        },
    ]


def test_denial_reasons_use_aws_wording() -> None:
    implicit = {"action": "s3:GetObject", "denials": [{"policyType": "identity"}]}
    assert denial_reason(implicit) == (
        "because no identity-based policy allows the s3:GetObject action"
    )
    resource = {"action": "s3:GetObject", "denials": [{"policyType": "resource"}]}
    assert denial_reason(resource) == (
        "because no resource-based policy allows the s3:GetObject action"
    )
    explicit = {"denials": [{"policyType": "resource", "denialType": "Explicit"}]}
    assert denial_reason(explicit) == "with an explicit deny in a resource-based policy"
    boundary = {"denials": [{"policyType": "pb", "denialType": "Explicit"}]}
    assert denial_reason(boundary) == "with an explicit deny in a permissions boundary"


def test_s3_quotes_its_resources_and_kms_does_not() -> None:
    reason = "because no identity-based policy allows the s3:GetObject action"
    assert message(SESSION, "s3:GetObject", "arn:aws:s3:::b/k", reason) == (
        f"User: {SESSION} is not authorized to perform: s3:GetObject on resource:"
        f' "arn:aws:s3:::b/k" {reason}'
    )
    key = "arn:aws:kms:us-east-1:111111111111:key/k"
    assert f"kms:Decrypt on resource: {key} because" in message(
        SESSION, "kms:Decrypt", key, "because"
    )
    assert message(SESSION, "ec2:DescribeInstances", "*", "because").endswith(
        "perform: ec2:DescribeInstances because"
    )
