"""Where the synthesized Terraform deploys to: real AWS, or the local cloud (LocalStack with the
plugins of `emulator/`).

Providers and the backend take their target-specific settings (endpoints, credentials, skip
flags) from here. Every resource is the same for both targets: what runs locally is what AWS gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from xrdeploy.errors import UserError

DEFAULT_EMULATOR_URL = "http://127.0.0.1:4566"

# Provider endpoint keys for every service the stacks touch: all of them must point at the
# emulator, or the provider would quietly call real AWS for the one left out.
EMULATED_SERVICE_ENDPOINTS = (
    "cloudwatch",
    "cloudwatchevents",
    "cloudwatchlogs",
    "codecommit",
    "codedeploy",
    "codepipeline",
    "codestarconnections",
    "ec2",
    "iam",
    "kms",
    "lambda",
    "s3",
    "sns",
    "sqs",
    "ssm",
    "sts",
)

# Credentials LocalStack accepts: a 12-digit access key id selects that account.
EMULATOR_SECRET_KEY = "test"


@dataclass(frozen=True)
class DeployTarget:
    """`emulator_url` None means real AWS."""

    emulator_url: str | None = None

    @property
    def is_emulator(self) -> bool:
        return self.emulator_url is not None

    @property
    def name(self) -> str:
        return f"localstack ({self.emulator_url})" if self.emulator_url else "aws"

    def uses_deploy_role(self) -> bool:
        """No deploy role in the emulator: the access key alone selects the account."""
        return not self.is_emulator

    def provider_settings(self, account_id: str) -> dict[str, Any]:
        """Keyword arguments for AwsProvider that depend on the target (scalars and endpoint
        URLs; the provider factory builds the typed blocks)."""
        if self.emulator_url is None:
            return {}
        return {
            "access_key": account_id,
            "secret_key": EMULATOR_SECRET_KEY,
            "s3_use_path_style": True,
            "skip_credentials_validation": True,
            "skip_metadata_api_check": "true",
            # LocalStack answers GetCallerIdentity with the access key's account, so the
            # provider's allowed_account_ids check still guards against a wrong account.
            "skip_requesting_account_id": False,
            "skip_region_validation": True,
            "endpoints": {key: self.emulator_url for key in EMULATED_SERVICE_ENDPOINTS},
        }

    def s3_backend_settings(self, account_id: str) -> dict[str, Any]:
        """Keyword arguments for S3Backend that depend on the target."""
        if self.emulator_url is None:
            return {}
        return {
            "access_key": account_id,
            "secret_key": EMULATOR_SECRET_KEY,
            "use_path_style": True,
            "skip_credentials_validation": True,
            "skip_metadata_api_check": True,
            "skip_requesting_account_id": True,
            "skip_region_validation": True,
            "endpoints": {
                "s3": self.emulator_url,
                "sts": self.emulator_url,
                "iam": self.emulator_url,
            },
        }


def parse_target(value: str) -> DeployTarget:
    """`aws`, `localstack` or `localstack=URL`, as given to --target."""
    if value == "aws":
        return DeployTarget()
    name, _, url = value.partition("=")
    if name != "localstack":
        raise UserError(
            f"--target: {value!r} is not a target; use aws, localstack or localstack=URL"
        )
    url = url or DEFAULT_EMULATOR_URL
    parsed = urlparse(url)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc:
        raise UserError(f"--target: {url!r} is not an http(s) URL of a LocalStack endpoint")
    return DeployTarget(emulator_url=url.rstrip("/"))
