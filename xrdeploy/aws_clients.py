"""boto3 clients for one stage's account and region, on either target.

On the local cloud a 12-digit access key id selects the account (and acts as its root). On AWS the
caller's credentials are used, through `app.deploy_role_name` in each stage account when the config
names one (the same role Terraform assumes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config

from modules import arns
from xrdeploy.config.naming import PARTITION
from xrdeploy.config.target import EMULATOR_SECRET_KEY, DeployTarget

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10}, s3={"addressing_style": "path"})


@dataclass
class AwsClients:
    target: DeployTarget
    deploy_role_name: str | None = None
    _sessions: dict[str, boto3.Session] = field(default_factory=dict)

    def client(self, service: str, account_id: str, region: str) -> Any:
        if self.target.emulator_url is not None:
            return boto3.client(
                service,  # type: ignore[call-overload]
                endpoint_url=self.target.emulator_url,
                region_name=region,
                aws_access_key_id=account_id,
                aws_secret_access_key=EMULATOR_SECRET_KEY,
                config=_CONFIG,
            )
        return self._session(account_id).client(
            service,  # type: ignore[call-overload]
            region_name=region,
            config=_CONFIG,
        )

    def _session(self, account_id: str) -> boto3.Session:
        if self.deploy_role_name is None:
            return boto3.Session()
        if account_id not in self._sessions:
            role_arn = arns.iam_role(PARTITION, account_id, self.deploy_role_name)
            credentials = boto3.client("sts").assume_role(
                RoleArn=role_arn, RoleSessionName="xrdeploy-cli"
            )["Credentials"]
            self._sessions[account_id] = boto3.Session(
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
            )
        return self._sessions[account_id]
