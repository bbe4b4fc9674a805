"""IAM policy documents as typed statements, rendered through aws_iam_policy_document (identity
and bucket policies) or straight to JSON (key policies, see `policy_json`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementCondition,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct


@dataclass(frozen=True)
class Condition:
    test: str
    variable: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...] = ()
    effect: str = "Allow"
    # principal type ("AWS", "Service", "*") -> identifiers
    principals: tuple[tuple[str, tuple[str, ...]], ...] = ()
    conditions: tuple[Condition, ...] = field(default=())


def policy_document(
    scope: Construct, id_: str, *, provider: AwsProvider, statements: list[Statement]
) -> DataAwsIamPolicyDocument:
    return DataAwsIamPolicyDocument(
        scope,
        id_,
        provider=provider,
        statement=[
            DataAwsIamPolicyDocumentStatement(
                sid=s.sid,
                effect=s.effect,
                actions=list(s.actions),
                resources=list(s.resources) or None,
                principals=[
                    DataAwsIamPolicyDocumentStatementPrincipals(type=kind, identifiers=list(ids))
                    for kind, ids in s.principals
                ]
                or None,
                condition=[
                    DataAwsIamPolicyDocumentStatementCondition(
                        test=c.test, variable=c.variable, values=list(c.values)
                    )
                    for c in s.conditions
                ]
                or None,
            )
            for s in statements
        ],
    )


def assume_role_statement(principal_type: str, identifiers: tuple[str, ...]) -> Statement:
    return Statement(
        sid="Trust",
        actions=("sts:AssumeRole",),
        principals=((principal_type, identifiers),),
    )


def policy_json(statements: list[Statement]) -> str:
    """The policy as IAM JSON, for policies whose values are all known at synth time.

    Key policies use this instead of `policy_document`: policy linters read every
    aws_iam_policy_document as an identity policy, where the key policy's `Resource: "*"` (which
    there means "this key") looks like a grant on every resource in the account.
    """
    rendered = []
    for s in statements:
        statement: dict[str, object] = {"Sid": s.sid, "Effect": s.effect, "Action": list(s.actions)}
        if s.resources:
            statement["Resource"] = list(s.resources)
        if s.principals:
            # IAM JSON spells "anyone" as a bare "*", not as a principal type.
            kinds = dict(s.principals)
            statement["Principal"] = (
                "*" if "*" in kinds else {kind: list(ids) for kind, ids in kinds.items()}
            )
        if s.conditions:
            condition: dict[str, dict[str, list[str]]] = {}
            for c in s.conditions:
                condition.setdefault(c.test, {})[c.variable] = list(c.values)
            statement["Condition"] = condition
        rendered.append(statement)
    return json.dumps({"Version": "2012-10-17", "Statement": rendered}, sort_keys=True)
