"""boto3 clients for one stage's account and region, on either target.

On the local cloud a 12-digit access key id selects the account (and acts as its root); its
clients come from `local_cloud_client`, built on localstack-client's session, which the tests use
too. On AWS the caller's credentials are used, through `app.deploy_role_name` in each stage
account when the config names one (the same role Terraform assumes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from localstack_client.session import Session as LocalStackSession

from modules import arns
from xrdeploy.config.naming import PARTITION
from xrdeploy.config.target import EMULATOR_SECRET_KEY, DeployTarget

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10}, s3={"addressing_style": "path"})
# Services the local cloud answers that localstack-client's own list does not name.
_UNLISTED_SERVICES = ("codecommit", "codeconnections", "codestar-connections")


class LocalCloudSession(LocalStackSession):  # type: ignore[misc]
    """localstack-client's session held to one local cloud: every service at `endpoint`, checked
    against the local cloud's CA when it speaks TLS. Left alone, localstack-client builds
    `http://$LOCALSTACK_HOST` URLs (https only with $USE_SSL) and turns certificate checks off."""

    _service_endpoint_mapping: dict[str, str]  # set by localstack-client: service -> URL
    common_protected_kwargs: dict[str, Any]  # localstack-client's kwargs that win over a call's

    def __init__(
        self,
        endpoint: str,
        *,
        access_key_id: str,
        secret_access_key: str = EMULATOR_SECRET_KEY,
        session_token: str | None = None,
        region: str,
        ca_bundle: str | None = None,
    ) -> None:
        super().__init__(
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            aws_session_token=session_token,
            region_name=region,
            localstack_host=urlsplit(endpoint).netloc,
        )
        self._service_endpoint_mapping = dict.fromkeys(
            (*self._service_endpoint_mapping, *_UNLISTED_SERVICES), endpoint
        )
        self.common_protected_kwargs["verify"] = ca_bundle or True

    def client(self, service_name: str, **kwargs: Any) -> Any:
        # localstack-client passes no session token to boto3; a role session needs it.
        return super().client(service_name, aws_session_token=self.aws_session_token, **kwargs)


def local_cloud_client(
    service: str,
    *,
    endpoint: str,
    account_id: str,
    region: str,
    credentials: Mapping[str, str] | None = None,
    config: Config | None = None,
    ca_bundle: str | None = None,
) -> Any:
    """A boto3 client of the local cloud at `endpoint`: as `account_id`'s root, or with
    `credentials` (STS's `Credentials`: AccessKeyId, SecretAccessKey, SessionToken); botocore's
    default config unless given one."""
    credentials = credentials or {}
    session = LocalCloudSession(
        endpoint,
        access_key_id=credentials.get("AccessKeyId", account_id),
        secret_access_key=credentials.get("SecretAccessKey", EMULATOR_SECRET_KEY),
        session_token=credentials.get("SessionToken"),
        region=region,
        ca_bundle=ca_bundle,
    )
    return session.client(service, config=config)


@dataclass
class AwsClients:
    """Clients for the stages' accounts and regions. Each (service, account, region)'s client is
    made once and reused (botocore's clients are thread-safe): making one costs 8 to 13 ms of CPU,
    more than most of the calls it then makes, and a chain follower asks for them several times a
    second."""

    target: DeployTarget
    deploy_role_name: str | None = None
    _sessions: dict[str, boto3.Session] = field(default_factory=dict)
    _clients: dict[tuple[str, str, str], Any] = field(default_factory=dict)

    def client(self, service: str, account_id: str, region: str) -> Any:
        key = (service, account_id, region)
        if key not in self._clients:
            self._clients[key] = self._new_client(service, account_id, region)
        return self._clients[key]

    def _new_client(self, service: str, account_id: str, region: str) -> Any:
        if self.target.emulator_url is not None:
            return local_cloud_client(
                service,
                endpoint=self.target.emulator_url,
                account_id=account_id,
                region=region,
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
