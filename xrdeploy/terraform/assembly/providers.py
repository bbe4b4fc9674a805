"""The provider factory: one aliased AWS provider per (account, region) a stack touches, set up
for the deploy target (AWS, or the local cloud's endpoints and skip flags)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.provider import (
    AwsProvider,
    AwsProviderAssumeRole,
    AwsProviderDefaultTags,
    AwsProviderEndpoints,
)
from constructs import Construct

from xrdeploy.config.target import DeployTarget


@dataclass(frozen=True)
class ProviderTarget:
    account_id: str
    region: str
    # Role Terraform assumes in this account on real AWS; None = the caller's credentials.
    deploy_role_arn: str | None = None


def provider_alias(account_id: str, region: str) -> str:
    """Deterministic alias: the same pair always gets the same Terraform address."""
    return f"aws_{account_id}_{region.replace('-', '_')}"


def make_providers(
    scope: Construct,
    *,
    targets: list[ProviderTarget],
    deploy_target: DeployTarget,
    default_tags: dict[str, str],
) -> dict[tuple[str, str], AwsProvider]:
    """One provider per distinct (account, region); there is deliberately no default provider,
    so a resource that forgets its provider fails to synthesize instead of landing anywhere."""
    providers: dict[tuple[str, str], AwsProvider] = {}
    for target in targets:
        key = (target.account_id, target.region)
        if key in providers:
            continue
        alias = provider_alias(*key)
        settings = deploy_target.provider_settings(target.account_id)
        endpoints = settings.pop("endpoints", None)
        assume_role = None
        if target.deploy_role_arn and deploy_target.uses_deploy_role():
            assume_role = [
                AwsProviderAssumeRole(role_arn=target.deploy_role_arn, session_name="xrdeploy")
            ]
        providers[key] = AwsProvider(
            scope,
            alias,
            alias=alias,
            region=target.region,
            allowed_account_ids=[target.account_id],
            default_tags=[AwsProviderDefaultTags(tags=default_tags)],
            assume_role=assume_role,
            endpoints=_endpoints(endpoints),
            **settings,
        )
    return providers


def _endpoints(urls: dict[str, Any] | None) -> list[AwsProviderEndpoints] | None:
    if not urls:
        return None
    # `lambda` is a Python keyword, so the binding spells that field `lambda_`.
    return [
        AwsProviderEndpoints(
            **{
                ("lambda_" if service == "lambda" else service): url
                for service, url in urls.items()
            }
        )
    ]
