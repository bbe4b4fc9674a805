"""A CodeConnections connection to GitHub, created for the first stage's Git source.

AWS creates it PENDING: someone must complete it once in the console (Developer Tools →
Settings → Connections → Update pending connection), which installs the AWS Connector app in
the GitHub account. Until then the Source action fails; `status` shows the connection's state.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.codestarconnections_connection import (
    CodestarconnectionsConnection,
)
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

GITHUB = "GitHub"


@dataclass(frozen=True)
class SourceConnectionConfig:
    name: str
    provider_type: str = GITHUB


class SourceConnection(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, provider: AwsProvider, config: SourceConnectionConfig
    ) -> None:
        super().__init__(scope, id_)
        self.connection = CodestarconnectionsConnection(
            self,
            "connection",
            provider=provider,
            name=config.name,
            provider_type=config.provider_type,
        )

    @property
    def arn(self) -> str:
        return self.connection.arn
