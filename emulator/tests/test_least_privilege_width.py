"""The width check: each granted value against the recorded requests its statement granted.

Pure tests build the baseline by hand (which statement granted which request); the last replays
tightenings with the real evaluator on requests recorded as the guard records them.
"""

from __future__ import annotations

from typing import Any

import pytest

from emulator.least_privilege import Baseline, NodeEvaluator, baseline
from emulator.least_privilege_width import (
    AS_CONDITION,
    AS_USED,
    KEY_ITSELF,
    NEEDED,
    NOT_USED,
    UNMEASURED,
    WIDER,
    Element,
    WidthOutcome,
    covering_pattern,
    elements,
    matches,
    principal_covers,
    replay_width,
    tightened,
)

ACCOUNT = "111111111111"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/promotion"
UPSTREAM = "arn:aws:iam::222222222222:role/upstream-copy"
BUCKET = "arn:aws:s3:::bucket"
OBJECT = f"{BUCKET}/build.zip"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k"
INLINE = f"{ROLE}:inline:delivery"


def _request(action: str, resource: str, principal: str = ROLE, **context: str) -> dict[str, Any]:
    return {
        "principal_arn": principal,
        "action": action,
        "resource": resource,
        "context": {"aws:PrincipalArn": principal, **context},
    }


def _base(
    policy: str, document: dict[str, Any], granted: list[tuple[int, dict[str, Any]]]
) -> Baseline:
    """A baseline in which statement ``index`` of ``policy`` granted each request given."""
    return Baseline(
        {policy: document},
        (policy,),
        tuple(r for _, r in granted),
        tuple(True for _ in granted),
        tuple(frozenset({(policy, index)}) for index, _ in granted),
        (),
    )


def _policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _found(found: list[Element]) -> dict[tuple[str, ...], tuple[tuple[str, ...], str | None]]:
    """(Sid, path..., granted value) → (values used, status)."""
    return {(e.label, *e.path, e.granted): (e.used, e.status) for e in found}


def test_iam_wildcards_match_as_iam_does() -> None:
    assert matches(f"{BUCKET}/*", OBJECT)
    assert matches(f"{BUCKET}/*", f"{BUCKET}/a/b/c")
    assert not matches(f"{BUCKET}/*", BUCKET)
    assert matches("arn:aws:s3:::b?cket", BUCKET)
    assert matches("kms:*", "kms:Decrypt") and not matches("kms:De*", "kms:Encrypt")
    assert matches("KMS:decrypt", "kms:Decrypt", ignore_case=True)
    assert not matches("KMS:decrypt", "kms:Decrypt")


def test_principals_cover_their_own_account_or_themselves() -> None:
    assert principal_covers("AWS", f"arn:aws:iam::{ACCOUNT}:root", ROLE)
    assert principal_covers("AWS", ACCOUNT, ROLE)
    assert not principal_covers("AWS", "arn:aws:iam::222222222222:root", ROLE)
    assert principal_covers("AWS", ROLE, ROLE) and not principal_covers("AWS", UPSTREAM, ROLE)
    assert principal_covers("Service", "lambda.amazonaws.com", "lambda.amazonaws.com")
    assert principal_covers("AWS", "*", ROLE)


def test_the_covering_pattern_is_the_value_or_the_common_prefix() -> None:
    assert covering_pattern([OBJECT, OBJECT]) == OBJECT
    assert covering_pattern([f"{BUCKET}/a/1", f"{BUCKET}/a/2"]) == f"{BUCKET}/a/*"


def test_a_wildcard_object_grant_is_tightened_to_the_object_written() -> None:
    # GIVEN DeliverBuild widened to bucket/*, and a bucket grant used as written
    document = _policy(
        {
            "Sid": "DeliverBuild",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": [f"{BUCKET}/*"],
        },
        {"Sid": "List", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET},
    )
    base = _base(
        INLINE,
        document,
        [(1, _request("s3:PutObject", OBJECT)), (2, _request("s3:ListBucket", BUCKET))],
    )
    found = elements(INLINE, document, base)
    # THEN the wildcard is to be tightened to the one object; the bucket is as used
    assert _found(found) == {
        ("DeliverBuild", "Resource", f"{BUCKET}/*"): ((OBJECT,), None),
        ("List", "Resource", BUCKET): ((BUCKET,), AS_USED),
    }
    narrowed = tightened(document, found[0])
    assert narrowed["Statement"][0]["Resource"] == [OBJECT]
    assert narrowed["Statement"][1] == document["Statement"][1]


def test_an_unused_resource_is_dropped_and_a_lone_unmatched_one_is_unmeasured() -> None:
    document = _policy(
        {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": [BUCKET, OBJECT]},
        {"Sid": "Odd", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x"},
    )
    base = _base(
        INLINE,
        document,
        [(1, _request("s3:GetObject", OBJECT)), (2, _request("s3:GetObject", OBJECT))],
    )
    found = elements(INLINE, document, base)
    assert [(e.label, e.granted, e.used, e.status) for e in found] == [
        ("Read", BUCKET, (), None),
        ("Read", OBJECT, (OBJECT,), AS_USED),
        ("Odd", "arn:aws:s3:::x", (), UNMEASURED),
    ]
    assert tightened(document, found[0])["Statement"][0]["Resource"] == [OBJECT]


def test_a_key_policy_root_and_wildcard_action_are_tightened_and_its_star_is_the_key() -> None:
    policy = f"key-policy:{KEY}"
    document = _policy(
        {
            "Sid": "AccountIamDelegation",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Principal": {"Service": "logs.amazonaws.com"},
            "Action": ["kms:Encrypt"],
            "Resource": "*",
        },
        {"Sid": "Guard", "Effect": "Deny", "Principal": "*", "Action": "kms:*", "Resource": "*"},
    )
    base = _base(policy, document, [(1, _request("kms:Decrypt", KEY))])
    root = f"arn:aws:iam::{ACCOUNT}:root"
    assert _found(elements(policy, document, base)) == {
        ("AccountIamDelegation", "Action", "kms:*"): (("kms:Decrypt",), None),
        ("AccountIamDelegation", "Resource", "*"): ((), KEY_ITSELF),
        ("AccountIamDelegation", "Principal", "AWS", root): ((ROLE,), None),
        # the Logs statement granted nothing recorded; the Deny is never tightened
        ("Logs", "Resource", "*"): ((), NOT_USED),
        ("Logs", "Principal", "Service", "logs.amazonaws.com"): ((), NOT_USED),
    }
    principal = next(e for e in elements(policy, document, base) if e.field == "Principal")
    assert tightened(document, principal)["Statement"][0]["Principal"] == {"AWS": [ROLE]}


def test_an_account_principal_pinned_by_principal_arn_is_as_narrow_as_the_role() -> None:
    # GIVEN a trust naming the upstream account, pinned to one role by aws:PrincipalArn
    policy = f"trust-policy:{ROLE}"
    upstream_root = "arn:aws:iam::222222222222:root"
    document = _policy(
        {
            "Sid": "Trust",
            "Effect": "Allow",
            "Principal": {"AWS": upstream_root},
            "Action": "sts:AssumeRole",
            "Condition": {"ArnEquals": {"aws:PrincipalArn": [UPSTREAM, f"{UPSTREAM}-old"]}},
        }
    )
    base = _base(policy, document, [(1, _request("sts:AssumeRole", ROLE, principal=UPSTREAM))])
    found = elements(policy, document, base)
    # THEN the principal is judged by the condition; its unused alternative is to be dropped
    pinned = ("Trust", "Condition", "ArnEquals", "aws:PrincipalArn")
    assert _found(found) == {
        ("Trust", "Principal", "AWS", upstream_root): ((), AS_CONDITION),
        (*pinned, UPSTREAM): ((UPSTREAM,), AS_USED),
        (*pinned, f"{UPSTREAM}-old"): ((), None),
    }
    condition = tightened(document, found[2])["Statement"][0]["Condition"]
    assert condition == {"ArnEquals": {"aws:PrincipalArn": [UPSTREAM]}}


def test_what_the_record_cannot_measure_is_unmeasured() -> None:
    # GIVEN an Allow of everything but one object, over TLS only, that granted a recorded request
    document = _policy(
        {
            "Sid": "AllBut",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "NotResource": f"{BUCKET}/secret",
            "Condition": {"Bool": {"aws:SecureTransport": "true"}},
        }
    )
    base = _base(INLINE, document, [(1, _request("s3:GetObject", OBJECT))])
    # THEN neither the NotResource nor the Bool condition can be compared with the record
    assert _found(elements(INLINE, document, base)) == {
        ("AllBut", "Condition", "Bool", "aws:SecureTransport", "true"): ((), UNMEASURED),
        ("AllBut", "NotResource", f"{BUCKET}/secret"): ((), UNMEASURED),
    }


@pytest.mark.parametrize(
    ("denied", "verdict"), [((), WIDER), (((ROLE, "s3:PutObject", OBJECT),), NEEDED)]
)
def test_a_tightening_that_denies_nothing_shows_the_grant_wider(
    denied: tuple[tuple[str, str, str], ...], verdict: str
) -> None:
    element = Element(INLINE, 1, "DeliverBuild", ("Resource",), f"{BUCKET}/*", (OBJECT,), None)
    assert WidthOutcome(element, denied).verdict == verdict
    settled = Element(INLINE, 1, "DeliverBuild", ("Resource",), OBJECT, (OBJECT,), AS_USED)
    assert WidthOutcome(settled, ()).verdict == AS_USED


def test_the_evaluator_replays_tightenings_of_recorded_requests() -> None:
    # GIVEN PutObject on one object, recorded under a grant of bucket/* and one of the object
    document = _policy(
        {"Sid": "Wide", "Effect": "Allow", "Action": "s3:PutObject", "Resource": f"{BUCKET}/*"},
        {"Sid": "Exact", "Effect": "Allow", "Action": "s3:GetObject", "Resource": OBJECT},
    )
    requests = [
        {
            "principal": f"arn:aws:sts::{ACCOUNT}:assumed-role/promotion/copy",
            "principal_arn": ROLE,
            "action": action,
            "resource": OBJECT,
            "resource_account": ACCOUNT,
            "context": {"aws:SecureTransport": "true", "aws:PrincipalArn": ROLE},
            "identity": [{"id": INLINE, "name": "inline:delivery", "sha256": "-"}],
            "decision": "allowed",
        }
        for action in ("s3:PutObject", "s3:GetObject")
    ]
    evaluate = NodeEvaluator()
    base = baseline(requests, {INLINE: document}, [INLINE], evaluate)
    assert base.disagreements == ()
    # WHEN each value is tightened to its use and the requests replayed
    result = replay_width(base, evaluate)
    # THEN the wildcard is wider than the one object written; the object grant is as used
    assert [(o.element.label, o.element.granted, o.verdict) for o in result.outcomes] == [
        ("Wide", f"{BUCKET}/*", WIDER),
        ("Exact", OBJECT, AS_USED),
    ]
    assert result.evaluations == 2  # the tightening, against both requests naming the policy
