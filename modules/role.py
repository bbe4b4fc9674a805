"""An IAM role with one inline policy: the shape every xrdeploy role has."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from modules.policy import Statement, policy_document


@dataclass(frozen=True)
class RoleConfig:
    name: str
    description: str
    trust: tuple[Statement, ...]
    permissions: tuple[Statement, ...]


class Role(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, provider: AwsProvider, config: RoleConfig
    ) -> None:
        super().__init__(scope, id_)
        trust = policy_document(self, "trust", provider=provider, statements=list(config.trust))
        self.role = IamRole(
            self,
            "role",
            provider=provider,
            name=config.name,
            description=config.description,
            assume_role_policy=trust.json,
            max_session_duration=3600,
        )
        permissions = policy_document(
            self, "permissions", provider=provider, statements=list(config.permissions)
        )
        IamRolePolicy(
            self,
            "policy",
            provider=provider,
            name=config.name,
            role=self.role.id,
            policy=permissions.json,
        )
        self.arn = self.role.arn
        self.name = self.role.name
