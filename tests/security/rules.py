"""Our own policy rules, where Checkov is silent or checks only part: over one stack's HCL-JSON.

Each rule takes a synthesized document and returns its violations, one line each (empty when the
stack complies). Resources are found by type and properties, never by logical id. A policy a rule
cannot read (an interpolation it does not know) is a violation, not a pass: no rule may pass
because it looked away.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

Doc = dict[str, Any]
Rule = Callable[[Doc], list[str]]

# Actions AWS authorizes only against Resource "*" (the Service Authorization Reference lists no
# resource type for them), each used by a construct in modules/. Any other action on "*" is a
# finding. cloudwatch:DescribeAlarms is not here: it takes alarm ARNs (modules/codedeploy.py).
RESOURCELESS_ACTIONS = frozenset(
    {
        "ec2:DescribeInstances",  # EC2 Describe*: no resource-level permissions (CodeDeploy)
        "ec2:DescribeInstanceStatus",
        "tag:GetResources",  # the tagging API searches the whole account by design (CodeDeploy)
        "codepipeline:PutJobSuccessResult",  # act on a job id, not an ARN (copy function)
        "codepipeline:PutJobFailureResult",
    }
)
# A key policy may give kms:* to its own account's root, and only that: it delegates to IAM, where
# each role's policy names the key; without it the account can lose control of its key.
KEY_POLICY_ROOT_ACTIONS = ("kms:*",)

_REFERENCE = re.compile(
    r"^\$\{(?:(?P<data>data)\.)?(?P<type>\w+)\.(?P<name>[\w-]+)\.(?P<attr>\w+)\}$"
)
_SERVICE_PRINCIPAL = re.compile(r"^[a-z0-9.-]+\.amazonaws\.com$")
_ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::(?P<account>\d{12}):role/[\w+=,.@/-]+$")
_ACCOUNT_ROOT = re.compile(r"^arn:aws[\w-]*:iam::(?P<account>\d{12}):root$")
_WORLD = ("0.0.0.0/0", "::/0")
# ARN resource-type prefixes of the services the stacks use: "<type>/*" or "<type>:*" means all.
_RESOURCE_TYPES = frozenset(
    {
        "role",
        "user",
        "group",
        "policy",
        "instance-profile",
        "log-group",
        "function",
        "alarm",
        "key",
        "alias",
        "application",
        "deploymentgroup",
        "deploymentconfig",
        "instance",
        "security-group",
        "parameter",
        "rule",
    }
)
SSH_PORT = 22


@dataclass(frozen=True)
class Statement:
    """One policy statement, whichever way it was written (HCL-JSON data source or IAM JSON)."""

    sid: str
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    principals: tuple[tuple[str, str], ...]  # (type, identifier); ("*", "*") is anyone
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...]  # (test, variable, values)
    negated: tuple[str, ...]  # NotAction / NotResource / NotPrincipal used, which widen an Allow


def _blocks(value: Any) -> list[dict[str, Any]]:
    """A nested block as cdktf writes it: one object, or a list of them."""
    if value is None:
        return []
    return [value] if isinstance(value, dict) else list(value)


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _from_data_source(body: dict[str, Any]) -> list[Statement]:
    return [
        Statement(
            sid=s.get("sid", ""),
            effect=s.get("effect", "Allow"),
            actions=_strings(s.get("actions")),
            resources=_strings(s.get("resources")),
            principals=tuple(
                (p["type"], identifier)
                for p in _blocks(s.get("principals"))
                for identifier in _strings(p["identifiers"])
            ),
            conditions=tuple(
                (c["test"], c["variable"], _strings(c["values"]))
                for c in _blocks(s.get("condition"))
            ),
            negated=tuple(
                key for key in ("not_actions", "not_resources", "not_principals") if s.get(key)
            ),
        )
        for s in _blocks(body.get("statement"))
    ] + (
        # Merged documents are not followed: say so rather than judge half a policy.
        [Statement("", "Unreadable", (), (), (), (), ("source_policy_documents",))]
        if body.get("source_policy_documents") or body.get("override_policy_documents")
        else []
    )


def _from_iam_json(text: str) -> list[Statement]:
    document = json.loads(text)
    statements = []
    for s in _blocks(document.get("Statement")):
        principal = s.get("Principal")
        if principal == "*":
            principals: tuple[tuple[str, str], ...] = (("*", "*"),)
        else:
            principals = tuple(
                (kind, identifier)
                for kind, identifiers in (principal or {}).items()
                for identifier in _strings(identifiers)
            )
        statements.append(
            Statement(
                sid=s.get("Sid", ""),
                effect=s.get("Effect", ""),
                actions=_strings(s.get("Action")),
                resources=_strings(s.get("Resource")),
                principals=principals,
                conditions=tuple(
                    (test, variable, _strings(values))
                    for test, variables in (s.get("Condition") or {}).items()
                    for variable, values in variables.items()
                ),
                negated=tuple(k for k in ("NotAction", "NotResource", "NotPrincipal") if k in s),
            )
        )
    return statements


def policy_statements(doc: Doc, value: Any) -> list[Statement] | None:
    """The statements of a policy attribute: a reference to an aws_iam_policy_document's `json`,
    or literal IAM JSON. None when the value is neither (the rule then reports it)."""
    if not isinstance(value, str):
        return None
    match = _REFERENCE.match(value)
    if match:
        if not (match["data"] and match["type"] == "aws_iam_policy_document"):
            return None
        body = doc.get("data", {}).get("aws_iam_policy_document", {}).get(match["name"])
        return _from_data_source(body) if body is not None else None
    if "${" in value:
        return None
    try:
        return _from_iam_json(value)
    except (ValueError, AttributeError):
        return None


def _resources(doc: Doc, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from doc.get("resource", {}).get(kind, {}).items()


def _account_of(doc: Doc, body: dict[str, Any]) -> str | None:
    """The account a resource's provider is pinned to."""
    alias = body.get("provider", "").removeprefix("aws.")
    for provider in _blocks(doc.get("provider", {}).get("aws")):
        if provider.get("alias") == alias and provider.get("allowed_account_ids"):
            return str(provider["allowed_account_ids"][0])
    return None


def _is_wildcard_resource(resource: str) -> bool:
    """Names no one resource: "*", a "*" in the ARN's partition, service, region or account, or in
    the resource name. One trailing "/*" or ":*" under a named parent is scoped (the objects of one
    bucket, the streams of one log group); under a bare resource type ("role/*") it is not."""
    if resource == "*":
        return True
    parts = resource.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return "*" in resource
    name = parts[5]
    for suffix in ("/*", ":*"):
        if name.endswith(suffix):
            name = name.removesuffix(suffix)
            break
    return "*" in ":".join(parts[1:5]) or "*" in name or name in _RESOURCE_TYPES


def _anyone(statement: Statement) -> bool:
    return any(identifier == "*" for _, identifier in statement.principals)


def _identity_and_resource_policies(
    doc: Doc,
) -> Iterator[tuple[str, str, Any, dict[str, Any]]]:
    """(kind of policy, where, policy value, owning resource body) for every policy but trust."""
    for kind, attribute, policy_kind in (
        ("aws_iam_role_policy", "policy", "identity"),
        ("aws_iam_policy", "policy", "identity"),
        ("aws_s3_bucket_policy", "policy", "bucket"),
        ("aws_kms_key", "policy", "key"),
    ):
        for name, body in _resources(doc, kind):
            if attribute in body:
                yield policy_kind, f"{kind}.{name}", body[attribute], body
    for name, body in _resources(doc, "aws_iam_role"):
        for inline in _blocks(body.get("inline_policy")):
            yield "identity", f"aws_iam_role.{name} inline", inline.get("policy"), body


def iam_wildcards(doc: Doc) -> list[str]:
    """No Allow grants a wildcard action, a wildcard resource or anyone, outside the allow-list:
    RESOURCELESS_ACTIONS on "*", and a key policy's own-account root statement (where, as in every
    key policy, Resource "*" means the key itself). Deny statements only narrow, so they pass."""
    found = []
    for policy_kind, where, value, body in _identity_and_resource_policies(doc):
        statements = policy_statements(doc, value)
        if statements is None:
            found.append(f"{where}: policy not readable ({value!r:.80})")
            continue
        account_root = f"arn:aws:iam::{_account_of(doc, body)}:root"
        for s in statements:
            label = f"{where} {s.sid or '(no sid)'}"
            if s.effect == "Unreadable":
                found.append(f"{label}: merges other policy documents; not checked")
            if s.effect != "Allow":
                continue
            if s.negated:
                found.append(f"{label}: Allow with {', '.join(s.negated)}")
            if _anyone(s):
                found.append(f"{label}: allows anyone (Principal *)")
            root_delegation = (
                policy_kind == "key"
                and s.principals == (("AWS", account_root),)
                and s.actions == KEY_POLICY_ROOT_ACTIONS
            )
            for action in s.actions:
                if "*" in action and not root_delegation:
                    found.append(f"{label}: wildcard action {action}")
            if policy_kind == "key":
                continue  # a key policy's Resource is always "*": this key
            wide = [r for r in s.resources if _is_wildcard_resource(r)]
            if wide and not set(s.actions) <= RESOURCELESS_ACTIONS:
                narrowable = sorted(set(s.actions) - RESOURCELESS_ACTIONS)
                found.append(f"{label}: {', '.join(narrowable)} on {', '.join(wide)}")
    return found


def bucket_protection(doc: Doc) -> list[str]:
    """Every bucket has a policy that denies any request over plain HTTP (Deny, anyone, all S3
    actions, bucket and objects, aws:SecureTransport false), and SSE-KMS with a named key."""
    found = []
    for name, bucket in _resources(doc, "aws_s3_bucket"):
        where = f"aws_s3_bucket.{name}"
        refs = {f"${{aws_s3_bucket.{name}.{attr}}}" for attr in ("id", "bucket")}
        refs.add(bucket.get("bucket", ""))
        arn = f"arn:aws:s3:::{bucket.get('bucket')}"

        policies = [
            p for _, p in _resources(doc, "aws_s3_bucket_policy") if p.get("bucket") in refs
        ]
        statements = [policy_statements(doc, p.get("policy")) for p in policies]
        if any(s is None for s in statements):
            found.append(f"{where}: bucket policy not readable")
        tls_only = any(
            s.effect == "Deny"
            and _anyone(s)
            and set(s.actions) & {"s3:*", "*"}
            and {arn, f"{arn}/*"} <= set(s.resources)
            and ("Bool", "aws:SecureTransport", ("false",)) in s.conditions
            for policy in statements
            for s in policy or []
        )
        if not tls_only:
            found.append(f"{where}: no statement denies requests without TLS")

        encryption = [
            default
            for _, sse in _resources(doc, "aws_s3_bucket_server_side_encryption_configuration")
            if sse.get("bucket") in refs
            for rule in _blocks(sse.get("rule"))
            for default in _blocks(rule.get("apply_server_side_encryption_by_default"))
        ]
        if not any(
            d.get("sse_algorithm") in ("aws:kms", "aws:kms:dsse") and d.get("kms_master_key_id")
            for d in encryption
        ):
            found.append(f"{where}: not encrypted with a named KMS key by default")
    return found


def role_trust(doc: Doc) -> list[str]:
    """Every role can be assumed only by named principals: an AWS service, one exact role ARN, or
    an account narrowed by `ArnEquals` on `aws:PrincipalArn` to exact role ARNs of that account.
    Never anyone, a bare account, a wildcard, or a federated principal."""
    found = []
    for name, role in _resources(doc, "aws_iam_role"):
        where = f"aws_iam_role.{name}"
        statements = policy_statements(doc, role.get("assume_role_policy"))
        if statements is None:
            found.append(f"{where}: trust policy not readable")
            continue
        allows = [s for s in statements if s.effect == "Allow"]
        if not allows:
            found.append(f"{where}: trust policy allows no one (nothing to check)")
        for s in allows:
            if s.negated:
                found.append(f"{where}: trust uses {', '.join(s.negated)}")
            if not s.principals:
                found.append(f"{where}: trust statement {s.sid!r} names no principal")
            for kind, identifier in s.principals:
                named = (
                    (kind == "Service" and _SERVICE_PRINCIPAL.match(identifier))
                    or (kind == "AWS" and _ROLE_ARN.match(identifier) and "*" not in identifier)
                    or (kind == "AWS" and _pinned_account(identifier, s.conditions))
                )
                if not named:
                    found.append(f"{where}: trusts {kind} {identifier}")
    return found


Conditions = tuple[tuple[str, str, tuple[str, ...]], ...]


def _pinned_account(identifier: str, conditions: Conditions) -> bool:
    """An account root narrowed by `ArnEquals aws:PrincipalArn` to exact roles of that account
    (conditions only narrow: every other one is ANDed with it)."""
    root = _ACCOUNT_ROOT.match(identifier)
    pinned = [
        value
        for test, variable, values in conditions
        if test == "ArnEquals" and variable.lower() == "aws:principalarn"
        for value in values
    ]
    return (
        root is not None
        and bool(pinned)
        and all(
            (role := _ROLE_ARN.match(value)) is not None
            and "*" not in value
            and role["account"] == root["account"]
            for value in pinned
        )
    )


def _covers_ssh(protocol: Any, from_port: Any, to_port: Any) -> bool:
    if str(protocol) in ("-1", "all"):
        return True
    if str(protocol) not in ("tcp", "6"):
        return False
    if from_port is None or to_port is None:
        return True  # no range given: all ports
    return int(from_port) <= SSH_PORT <= int(to_port)


def world_open_ssh(doc: Doc) -> list[str]:
    """No ingress admits SSH (port 22, or all traffic) from 0.0.0.0/0 or ::/0, in any of the three
    ways the provider spells a rule."""
    found = []
    for name, rule in _resources(doc, "aws_vpc_security_group_ingress_rule"):
        cidrs = {rule.get("cidr_ipv4"), rule.get("cidr_ipv6")}
        if _covers_ssh(rule.get("ip_protocol"), rule.get("from_port"), rule.get("to_port")):
            found += [
                f"aws_vpc_security_group_ingress_rule.{name}: SSH from {c}"
                for c in _WORLD
                if c in cidrs
            ]
    for name, rule in _resources(doc, "aws_security_group_rule"):
        cidrs = set(_strings(rule.get("cidr_blocks"))) | set(_strings(rule.get("ipv6_cidr_blocks")))
        if rule.get("type") == "ingress" and _covers_ssh(
            rule.get("protocol"), rule.get("from_port"), rule.get("to_port")
        ):
            found += [f"aws_security_group_rule.{name}: SSH from {c}" for c in _WORLD if c in cidrs]
    for name, group in _resources(doc, "aws_security_group"):
        for ingress in _blocks(group.get("ingress")):
            cidrs = set(_strings(ingress.get("cidr_blocks"))) | set(
                _strings(ingress.get("ipv6_cidr_blocks"))
            )
            if _covers_ssh(
                ingress.get("protocol"), ingress.get("from_port"), ingress.get("to_port")
            ):
                found += [f"aws_security_group.{name}: SSH from {c}" for c in _WORLD if c in cidrs]
    return found


def imdsv2_required(doc: Doc) -> list[str]:
    """Every instance and launch template requires IMDSv2 session tokens (http_tokens required)."""
    found = []
    for kind in ("aws_instance", "aws_launch_template"):
        for name, body in _resources(doc, kind):
            options = _blocks(body.get("metadata_options"))
            if not any(o.get("http_tokens") == "required" for o in options):
                found.append(f"{kind}.{name}: IMDSv2 not required (metadata_options.http_tokens)")
    return found


def log_group_retention_and_kms(doc: Doc) -> list[str]:
    """Every log group expires its events (retention_in_days > 0; 0 or unset keeps them forever)
    and is encrypted with a KMS key."""
    found = []
    for name, group in _resources(doc, "aws_cloudwatch_log_group"):
        retention = group.get("retention_in_days")
        if not isinstance(retention, int) or retention <= 0:
            found.append(f"aws_cloudwatch_log_group.{name}: no retention ({retention!r})")
        if not group.get("kms_key_id"):
            found.append(f"aws_cloudwatch_log_group.{name}: not encrypted with a KMS key")
    return found


# Rule -> the resource types it inspects (a stack without any of them is not evidence).
RULES: dict[Rule, tuple[str, ...]] = {
    iam_wildcards: ("aws_iam_role_policy", "aws_s3_bucket_policy", "aws_kms_key"),
    bucket_protection: ("aws_s3_bucket",),
    role_trust: ("aws_iam_role",),
    world_open_ssh: ("aws_vpc_security_group_ingress_rule",),
    imdsv2_required: ("aws_instance",),
    log_group_retention_and_kms: ("aws_cloudwatch_log_group",),
}
