"""Our own policy rules (tests/security/rules.py): every synthesized stack keeps them, and each rule
flags a stack that breaks it, so no rule passes by looking away."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.security.rules import (
    OBJECT_WILDCARDS,
    RESOURCELESS_ACTIONS,
    RULES,
    Rule,
    bucket_protection,
    iam_wildcards,
    imdsv2_required,
    log_group_retention_and_kms,
    role_trust,
    world_open_ssh,
)
from tests.synth.tfjson import statements
from tools.security_scan import SCAN_CONFIGS

# The configs the security scan covers: every policy rule runs on each of them.
CONFIGS = list(SCAN_CONFIGS)
# A one-stage chain promotes nowhere: no copy function, so no log group.
ABSENT = {"one_stage": {"aws_cloudwatch_log_group"}}
ACCOUNT = "111111111111"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/upstream-copy-fn"
BUCKET_ARN = "arn:aws:s3:::b"
TLS_DENY = {
    "sid": "DenyInsecureTransport",
    "effect": "Deny",
    "actions": ["s3:*"],
    "resources": [BUCKET_ARN, f"{BUCKET_ARN}/*"],
    "principals": [{"type": "*", "identifiers": ["*"]}],
    "condition": [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}],
}
KMS_SSE = {"sse_algorithm": "aws:kms", "kms_master_key_id": "${aws_kms_key.k.arn}"}


def stack(resources: dict[str, Any], documents: dict[str, list[dict[str, Any]]] | None = None):
    """A minimal stack: one provider pinned to ACCOUNT, the given resources and policy documents."""
    return {
        "provider": {"aws": [{"alias": "a", "allowed_account_ids": [ACCOUNT]}]},
        "resource": {
            kind: {name: {"provider": "aws.a", **body} for name, body in items.items()}
            for kind, items in resources.items()
        },
        "data": {
            "aws_iam_policy_document": {
                name: {"statement": body} for name, body in (documents or {}).items()
            }
        },
    }


def role_policy(*statements: dict[str, Any]):
    return stack(
        {"aws_iam_role_policy": {"rp": {"policy": "${data.aws_iam_policy_document.p.json}"}}},
        {"p": list(statements)},
    )


def key_policy(*statements: dict[str, Any]):
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    return stack({"aws_kms_key": {"k": {"policy": json.dumps(document)}}})


def bucket(policy_statements: list[dict[str, Any]], default: dict[str, Any] | None = KMS_SSE):
    resources: dict[str, Any] = {
        "aws_s3_bucket": {"b": {"bucket": "b"}},
        "aws_s3_bucket_policy": {
            "bp": {
                "bucket": "${aws_s3_bucket.b.id}",
                "policy": "${data.aws_iam_policy_document.bp.json}",
            }
        },
    }
    if default is not None:
        resources["aws_s3_bucket_server_side_encryption_configuration"] = {
            "sse": {
                "bucket": "${aws_s3_bucket.b.id}",
                "rule": [{"apply_server_side_encryption_by_default": default}],
            }
        }
    return stack(resources, {"bp": policy_statements})


def trusting(kind: str, identifier: str, *conditions: dict[str, Any]):
    principal = [{"type": kind, "identifiers": [identifier]}]
    statement = {"effect": "Allow", "actions": ["sts:AssumeRole"], "principals": principal}
    return stack(
        {"aws_iam_role": {"r": {"assume_role_policy": "${data.aws_iam_policy_document.t.json}"}}},
        {"t": [{**statement, "condition": list(conditions)} if conditions else statement]},
    )


def principal_arn(test: str, *values: str) -> dict[str, Any]:
    return {"test": test, "variable": "aws:PrincipalArn", "values": list(values)}


def ingress(**rule: Any):
    return stack({"aws_vpc_security_group_ingress_rule": {"in": rule}})


# --- every synthesized stack keeps every rule -------------------------------------------------


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("rule", list(RULES), ids=lambda rule: rule.__name__)
def test_synthesized_stacks_keep_the_rule(synthesized, config: str, rule: Rule):
    # GIVEN every stack of a config, as synthesized for AWS
    documents = [(s.name, s.document()) for s in synthesized(config).stacks]
    # THEN the config has resources the rule inspects (else it would pass on nothing) ...
    inspected = {kind for _, doc in documents for kind in RULES[rule] if kind in doc["resource"]}
    expected = set(RULES[rule]) - ABSENT.get(config, set())
    assert inspected == expected, f"{config}: nothing of {RULES[rule]} to inspect"
    # ... and no stack breaks it.
    for name, doc in documents:
        assert rule(doc) == [], name


def test_the_allow_list_holds_only_actions_the_stacks_use(synthesized):
    used = {
        action
        for config in CONFIGS
        for s in synthesized(config).stacks
        for statement in statements(s.document())
        for action in statement["actions"]
        if "*" in statement.get("resources", [])
    }
    assert used == RESOURCELESS_ACTIONS


def test_the_object_allow_list_holds_only_statements_the_stacks_use(synthesized):
    used = {
        statement.get("sid")
        for config in CONFIGS
        for s in synthesized(config).stacks
        for statement in statements(s.document())
        if statement.get("effect", "Allow") == "Allow"
        for resource in statement.get("resources", [])
        if resource.startswith(("arn:aws:s3:::", "${aws_s3_bucket.")) and resource.endswith("/*")
    }
    assert used == set(OBJECT_WILDCARDS)


def test_the_ssh_rule_saw_an_ssh_rule_and_let_a_narrow_one_pass(synthesized):
    doc = synthesized("single_account").stacks[0].document()
    ssh = [
        r
        for r in doc["resource"]["aws_vpc_security_group_ingress_rule"].values()
        if r["from_port"] == 22
    ]
    assert [r["cidr_ipv4"] for r in ssh] == ["203.0.113.0/24"]
    assert world_open_ssh(doc) == []


# --- each rule catches what it is for ---------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "flagged"),
    [
        ({"actions": ["s3:*"], "resources": [f"{BUCKET_ARN}/*"]}, "wildcard action s3:*"),
        ({"actions": ["*"], "resources": [BUCKET_ARN]}, "wildcard action *"),
        ({"actions": ["s3:GetObject"], "resources": ["*"]}, "s3:GetObject on *"),
        ({"actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::*"]}, "on arn:aws:s3:::*"),
        (
            {"actions": ["iam:PassRole"], "resources": [f"arn:aws:iam::{ACCOUNT}:role/*"]},
            "iam:PassRole on",
        ),
        (
            {"actions": ["ec2:DescribeInstances", "s3:ListBucket"], "resources": ["*"]},
            "s3:ListBucket",
        ),
        ({"not_actions": ["iam:CreateUser"], "resources": [BUCKET_ARN]}, "not_actions"),
        # every object of a named bucket, from a statement that does not say why
        ({"actions": ["s3:GetObject"], "resources": [f"{BUCKET_ARN}/*"]}, f"on {BUCKET_ARN}/*"),
        (
            {"sid": "DeliverBuild", "actions": ["s3:PutObject"], "resources": [f"{BUCKET_ARN}/*"]},
            f"s3:PutObject on {BUCKET_ARN}/*",
        ),
        (
            {
                "sid": "ReadRevisions",
                "actions": ["s3:GetObject"],
                "resources": ["arn:aws:s3:::*/*"],
            },
            "on arn:aws:s3:::*/*",
        ),
    ],
)
def test_iam_wildcards_flags_wide_grants(statement: dict[str, Any], flagged: str):
    found = iam_wildcards(role_policy({"sid": "Bad", "effect": "Allow", **statement}))
    assert found, statement
    assert any(flagged in line for line in found), found


@pytest.mark.parametrize(
    "statement",
    [
        {"actions": sorted(RESOURCELESS_ACTIONS), "resources": ["*"]},
        {"sid": "ReadRevisions", "actions": ["s3:GetObject"], "resources": [f"{BUCKET_ARN}/*"]},
        {"actions": ["s3:PutObject"], "resources": [f"{BUCKET_ARN}/build.zip"]},
        {"actions": ["logs:PutLogEvents"], "resources": ["arn:aws:logs:r:1:log-group:g:*"]},
        {**TLS_DENY},
    ],
)
def test_iam_wildcards_lets_named_and_resourceless_grants_pass(statement: dict[str, Any]):
    assert iam_wildcards(role_policy({"effect": "Allow", **statement})) == []


def test_iam_wildcards_allows_kms_star_only_to_the_keys_own_account_root():
    own = {"Sid": "Root", "Effect": "Allow", "Action": "kms:*", "Resource": "*"}
    assert iam_wildcards(key_policy({**own, "Principal": {"AWS": ROOT}})) == []
    other_root = {**own, "Principal": {"AWS": "arn:aws:iam::999999999999:root"}}
    assert iam_wildcards(key_policy(other_root)) == ["aws_kms_key.k Root: wildcard action kms:*"]
    narrower_wildcard = {**own, "Action": ["kms:Decrypt*"], "Principal": {"AWS": ROOT}}
    assert iam_wildcards(key_policy(narrower_wildcard)) == [
        "aws_kms_key.k Root: wildcard action kms:Decrypt*"
    ]
    anyone = {**own, "Action": ["kms:Decrypt"], "Principal": "*"}
    assert iam_wildcards(key_policy(anyone)) == ["aws_kms_key.k Root: allows anyone (Principal *)"]


def test_iam_wildcards_checks_the_resources_of_key_policies_too():
    statement = {"Sid": "Logs", "Effect": "Allow", "Action": "kms:Decrypt"}
    statement["Principal"] = {"Service": "logs.amazonaws.com"}
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab"
    assert iam_wildcards(key_policy({**statement, "Resource": "*"})) == []
    assert iam_wildcards(key_policy({**statement, "Resource": key})) == []
    for other in (f"arn:aws:kms:us-east-1:{ACCOUNT}:key/*", f"{BUCKET_ARN}/*"):
        assert iam_wildcards(key_policy({**statement, "Resource": other})) == [
            f"aws_kms_key.k Logs: key policy resource {other} is not this key"
        ]
    # ... and the root's kms:* only on the key itself
    root = {"Sid": "Root", "Effect": "Allow", "Action": "kms:*", "Principal": {"AWS": ROOT}}
    assert iam_wildcards(key_policy({**root, "Resource": f"arn:aws:kms:*:{ACCOUNT}:key/*"})) == [
        "aws_kms_key.k Root: wildcard action kms:*",
        f"aws_kms_key.k Root: key policy resource arn:aws:kms:*:{ACCOUNT}:key/* is not this key",
    ]


def test_iam_wildcards_flags_a_bucket_policy_open_to_anyone_and_an_unreadable_policy():
    public = {"effect": "Allow", "actions": ["s3:GetObject"], "resources": [f"{BUCKET_ARN}/*"]}
    public["principals"] = [{"type": "AWS", "identifiers": ["*"]}]
    assert any("allows anyone" in line for line in iam_wildcards(bucket([public])))
    opaque = stack({"aws_iam_role_policy": {"rp": {"policy": "${aws_iam_policy.x.policy}"}}})
    assert iam_wildcards(opaque) == [
        "aws_iam_role_policy.rp: policy not readable ('${aws_iam_policy.x.policy}')"
    ]


def test_bucket_protection_passes_a_tls_only_kms_bucket_and_flags_each_gap():
    assert bucket_protection(bucket([TLS_DENY])) == []
    no_tls = "aws_s3_bucket.b: no statement denies requests without TLS"
    assert bucket_protection(bucket([])) == [no_tls]
    objects_only = {**TLS_DENY, "resources": [f"{BUCKET_ARN}/*"]}
    assert bucket_protection(bucket([objects_only])) == [no_tls]
    allow_not_deny = {**TLS_DENY, "effect": "Allow"}
    assert bucket_protection(bucket([allow_not_deny])) == [no_tls]
    no_kms = "aws_s3_bucket.b: not encrypted with a named KMS key by default"
    assert bucket_protection(bucket([TLS_DENY], default={"sse_algorithm": "AES256"})) == [no_kms]
    assert bucket_protection(bucket([TLS_DENY], default=None)) == [no_kms]


@pytest.mark.parametrize(
    ("kind", "identifier"),
    [
        ("Service", "lambda.amazonaws.com"),
        ("Service", "logs.eu-west-1.amazonaws.com"),
        ("AWS", ROLE),
    ],
)
def test_role_trust_accepts_a_service_or_one_exact_role(kind: str, identifier: str):
    assert role_trust(trusting(kind, identifier)) == []


@pytest.mark.parametrize(
    ("kind", "identifier"),
    [
        ("AWS", ROOT),
        ("AWS", ACCOUNT),
        ("AWS", "*"),
        ("*", "*"),
        ("AWS", f"arn:aws:iam::{ACCOUNT}:role/*"),
        ("AWS", f"arn:aws:iam::{ACCOUNT}:user/someone"),
        ("Federated", "cognito-identity.amazonaws.com"),
        ("Service", "*"),
    ],
)
def test_role_trust_flags_accounts_wildcards_and_anyone(kind: str, identifier: str):
    assert role_trust(trusting(kind, identifier)) == [f"aws_iam_role.r: trusts {kind} {identifier}"]


def test_role_trust_accepts_an_account_pinned_to_exact_roles_of_it():
    assert role_trust(trusting("AWS", ROOT, principal_arn("ArnEquals", ROLE))) == []


@pytest.mark.parametrize(
    "condition",
    [
        principal_arn("ArnLike", ROLE),  # a test that takes wildcards
        principal_arn("ArnEquals", f"arn:aws:iam::{ACCOUNT}:role/*"),
        principal_arn("ArnEquals", "arn:aws:iam::999999999999:role/upstream-copy-fn"),
        principal_arn("ArnEquals", ROLE, f"arn:aws:iam::{ACCOUNT}:user/someone"),
        principal_arn("ArnEquals"),
        {"test": "StringEquals", "variable": "aws:PrincipalAccount", "values": [ACCOUNT]},
    ],
)
def test_role_trust_flags_an_account_not_pinned_to_exact_roles_of_it(condition: dict[str, Any]):
    found = role_trust(trusting("AWS", ROOT, condition))
    assert found == [f"aws_iam_role.r: trusts AWS {ROOT}"]


def test_role_trust_flags_a_literal_principal_star_and_a_trust_without_principal():
    anyone = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": "*"}]}
    role = stack({"aws_iam_role": {"r": {"assume_role_policy": json.dumps(anyone)}}})
    assert role_trust(role) == ["aws_iam_role.r: trusts * *"]
    nobody = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}
    role = stack({"aws_iam_role": {"r": {"assume_role_policy": json.dumps(nobody)}}})
    assert role_trust(role) == ["aws_iam_role.r: trust statement '' names no principal"]


@pytest.mark.parametrize(
    "rule",
    [
        {"ip_protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_ipv4": "0.0.0.0/0"},
        {"ip_protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_ipv6": "::/0"},
        {"ip_protocol": "tcp", "from_port": 0, "to_port": 65535, "cidr_ipv4": "0.0.0.0/0"},
        {"ip_protocol": "-1", "cidr_ipv4": "0.0.0.0/0"},
    ],
)
def test_world_open_ssh_flags_port_22_from_anywhere(rule: dict[str, Any]):
    assert len(world_open_ssh(ingress(**rule))) == 1


def test_world_open_ssh_reads_legacy_rules_and_inline_ingress_too():
    legacy = stack(
        {
            "aws_security_group_rule": {
                "in": {"type": "ingress", "protocol": "tcp", "from_port": 22, "to_port": 22}
                | {"cidr_blocks": ["0.0.0.0/0"]},
                "out": {"type": "egress", "protocol": "tcp", "from_port": 22, "to_port": 22}
                | {"cidr_blocks": ["0.0.0.0/0"]},
            }
        }
    )
    assert world_open_ssh(legacy) == ["aws_security_group_rule.in: SSH from 0.0.0.0/0"]
    inline = stack(
        {
            "aws_security_group": {
                "sg": {
                    "ingress": [
                        {"protocol": "tcp", "from_port": 22, "to_port": 22}
                        | {"ipv6_cidr_blocks": ["::/0"]}
                    ]
                }
            }
        }
    )
    assert world_open_ssh(inline) == ["aws_security_group.sg: SSH from ::/0"]


@pytest.mark.parametrize(
    "rule",
    [
        {"ip_protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_ipv4": "203.0.113.0/24"},
        {"ip_protocol": "tcp", "from_port": 80, "to_port": 80, "cidr_ipv4": "0.0.0.0/0"},
        {"ip_protocol": "udp", "from_port": 22, "to_port": 22, "cidr_ipv4": "0.0.0.0/0"},
    ],
)
def test_world_open_ssh_lets_narrow_or_other_ports_pass(rule: dict[str, Any]):
    assert world_open_ssh(ingress(**rule)) == []


def test_imdsv2_required_flags_optional_or_missing_tokens():
    def instance(**body: Any):
        return stack({"aws_instance": {"i": body}})

    assert imdsv2_required(instance(metadata_options={"http_tokens": "required"})) == []
    flagged = ["aws_instance.i: IMDSv2 not required (metadata_options.http_tokens)"]
    assert imdsv2_required(instance(metadata_options={"http_tokens": "optional"})) == flagged
    assert imdsv2_required(instance()) == flagged
    template = stack(
        {"aws_launch_template": {"t": {"metadata_options": [{"http_tokens": "optional"}]}}}
    )
    assert imdsv2_required(template) == [
        "aws_launch_template.t: IMDSv2 not required (metadata_options.http_tokens)"
    ]


def test_log_group_rule_flags_missing_retention_or_key():
    def group(**body: Any):
        return stack({"aws_cloudwatch_log_group": {"g": body}})

    assert log_group_retention_and_kms(group(retention_in_days=30, kms_key_id="k")) == []
    assert log_group_retention_and_kms(group(kms_key_id="k")) == [
        "aws_cloudwatch_log_group.g: no retention (None)"
    ]
    assert log_group_retention_and_kms(group(retention_in_days=0, kms_key_id="k")) == [
        "aws_cloudwatch_log_group.g: no retention (0)"
    ]
    assert log_group_retention_and_kms(group(retention_in_days=30)) == [
        "aws_cloudwatch_log_group.g: not encrypted with a KMS key"
    ]
