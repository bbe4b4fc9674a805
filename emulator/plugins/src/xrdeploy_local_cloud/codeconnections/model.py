"""Connections as CodeConnections holds them, per account and region (pure: no LocalStack).

AWS serves one set of connections under two APIs: ``codeconnections`` (since 2024) and its former
name ``codestar-connections`` (what Terraform's aws_codestarconnections_connection calls). A
connection's ARN carries the prefix of the API that created it; either API finds it by either
ARN, as on AWS.
"""

from __future__ import annotations

import dataclasses
import threading

CODECONNECTIONS = "codeconnections"
CODESTAR_CONNECTIONS = "codestar-connections"
PREFIXES = (CODECONNECTIONS, CODESTAR_CONNECTIONS)
AVAILABLE = "AVAILABLE"
PENDING = "PENDING"


@dataclasses.dataclass
class Connection:
    id: str  # the ARN's last part, a UUID
    arn: str
    name: str
    provider_type: str
    owner_account_id: str
    status: str = AVAILABLE
    host_arn: str | None = None
    tags: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class RegionState:
    account_id: str = ""
    region: str = ""
    connections: dict[str, Connection] = dataclasses.field(default_factory=dict)  # by id
    lock: threading.RLock = dataclasses.field(default_factory=threading.RLock, repr=False)

    def arn(self, prefix: str, connection_id: str) -> str:
        return f"arn:aws:{prefix}:{self.region}:{self.account_id}:connection/{connection_id}"

    def find(self, arn: str) -> Connection | None:
        """The connection this ARN (of either prefix) names in this account and region."""
        parts = arn.split(":", 5)
        if (
            len(parts) != 6
            or parts[2] not in PREFIXES
            or parts[3:5]
            != [
                self.region,
                self.account_id,
            ]
        ):
            return None
        kind, _, connection_id = parts[5].partition("/")
        return self.connections.get(connection_id) if kind == "connection" else None


def parse_arn(arn: str) -> tuple[str, str, str] | None:
    """A connection ARN's region, account and id; None for anything else."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] not in PREFIXES:
        return None
    kind, _, connection_id = parts[5].partition("/")
    return (parts[3], parts[4], connection_id) if kind == "connection" and connection_id else None
