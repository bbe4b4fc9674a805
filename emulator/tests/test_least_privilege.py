"""The least-privilege replay on recorded requests, with the real evaluator and no LocalStack.

The requests are recorded as the guard records them (``xrdeploy_local_cloud.iam.recording``), so
the two sides of the record agree on its shape.
"""

from __future__ import annotations

from typing import Any

import pytest

from emulator.least_privilege import (
    NodeEvaluator,
    changed_documents,
    recorded_policies,
    replay,
    simulation,
)
from xrdeploy_local_cloud.iam.checks import Check, NamedPolicy, Principal
from xrdeploy_local_cloud.iam.recording import RequestLog, request_inputs
from xrdeploy_local_cloud.iam.simulation import simulation as guard_simulation

ACCOUNT = "111111111111"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/promotion"
SESSION = Principal(
    f"arn:aws:sts::{ACCOUNT}:assumed-role/promotion/copy", ROLE, ACCOUNT, "role", "promotion"
)
OBJECT = "arn:aws:s3:::bucket/build.zip"
BUCKET_POLICY = "bucket-policy:bucket"
INLINE = f"{ROLE}:inline:delivery"


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


IDENTITY = _policy(
    {
        "Sid": "Deliver",
        "Effect": "Allow",
        "Action": ["s3:PutObject", "s3:GetObject"],
        "Resource": OBJECT,
    },
    {"Sid": "Unused", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b"},
)
RESOURCE = _policy(
    {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [OBJECT],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    },
    {
        "Sid": "AlsoGrants",
        "Effect": "Allow",
        "Principal": {"AWS": ROLE},
        "Action": "s3:GetObject",
        "Resource": OBJECT,
    },
)


@pytest.fixture(scope="module")
def evaluate() -> NodeEvaluator:
    return NodeEvaluator()


def _record(evaluate: NodeEvaluator) -> dict[str, Any]:
    """PutObject and GetObject over TLS, GetObject over HTTP (denied), as the guard records."""
    log = RequestLog()
    identity = [NamedPolicy("inline:delivery", IDENTITY)]
    bucket = NamedPolicy(BUCKET_POLICY, RESOURCE)
    for action, tls in (
        ("s3:PutObject", "true"),
        ("s3:GetObject", "true"),
        ("s3:GetObject", "false"),
        ("s3:PutObject", "true"),
    ):
        check = Check(action, OBJECT, ACCOUNT, {}, bucket)
        context = {"aws:SecureTransport": tls, "aws:PrincipalArn": ROLE}
        (answer,) = evaluate([guard_simulation(SESSION, check, identity, [], context)])
        decision = "allowed" if answer["result"] == "Allowed" else "denied"
        log.record(request_inputs(SESSION, check, identity, [], context), decision)
    return log.to_json()


def test_identical_inputs_are_recorded_once_with_their_documents(evaluate: NodeEvaluator) -> None:
    record = _record(evaluate)
    assert [(r["action"], r["decision"], r["count"]) for r in record["requests"]] == [
        ("s3:PutObject", "allowed", 2),
        ("s3:GetObject", "allowed", 1),
        ("s3:GetObject", "denied", 1),
    ]
    assert recorded_policies(record) == {INLINE: IDENTITY, BUCKET_POLICY: RESOURCE}
    # ... named by digest, so a policy changed since the run is told apart
    assert changed_documents(record["requests"], recorded_policies(record)) == []
    changed = {INLINE: {**IDENTITY, "Statement": IDENTITY["Statement"][:1]}}
    assert changed_documents(record["requests"], changed) == [INLINE]
    # ... and a request replays to exactly the simulation the guard ran
    request = record["requests"][0]
    check = Check("s3:PutObject", OBJECT, ACCOUNT, {}, NamedPolicy(BUCKET_POLICY, RESOURCE))
    context = {"aws:SecureTransport": "true", "aws:PrincipalArn": ROLE}
    identity = [NamedPolicy("inline:delivery", IDENTITY)]
    assert simulation(request, recorded_policies(record)) == guard_simulation(
        SESSION, check, identity, [], context
    )


def test_each_statement_and_action_is_judged_by_what_breaks_without_it(
    evaluate: NodeEvaluator,
) -> None:
    record = _record(evaluate)
    policies = recorded_policies(record)
    # WHEN every statement and action of both policies is removed in turn
    result = replay(record["requests"], policies, [INLINE, BUCKET_POLICY], evaluate)
    assert result.disagreements == ()
    found = {
        (o.mutation.policy, o.mutation.label, o.mutation.action): (o.changed, o.also_granted_by)
        for o in result.outcomes
    }
    put = (ROLE, "s3:PutObject", OBJECT)
    get = (ROLE, "s3:GetObject", OBJECT)
    # THEN PutObject needs Deliver; GetObject is granted twice (same account: either suffices)
    assert found[(INLINE, "Deliver", None)] == ((put,), ())
    assert found[(INLINE, "Deliver", "s3:PutObject")] == ((put,), ())
    assert found[(INLINE, "Deliver", "s3:GetObject")] == ((), (f"{BUCKET_POLICY}#2",))
    assert found[(BUCKET_POLICY, "AlsoGrants", None)] == ((), (f"{INLINE}#1",))
    # ... a statement no request used says so; the Deny guards the request made over HTTP
    assert found[(INLINE, "Unused", None)] == ((), ())
    assert found[(BUCKET_POLICY, "DenyInsecureTransport", None)] == ((get,), ())
