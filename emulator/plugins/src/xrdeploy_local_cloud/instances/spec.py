"""What the CodeDeploy engine tells the instance host about an instance, and what a command run in
it returns. Stdlib only."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping


@dataclasses.dataclass(frozen=True)
class InstanceSpec:
    instance_id: str
    account_id: str
    region: str
    availability_zone: str
    private_ip: str
    instance_type: str
    image_id: str
    tags: Mapping[str, str]
    iam_role_name: str | None
    user_data: str = ""  # as EC2 holds it, decoded; run once at the first boot
    platform: str = ""  # "windows" for a Windows AMI's instance (EC2's Platform), else ""

    @property
    def hostname(self) -> str:
        # EC2's resource-name form for IP-based hostnames in a VPC.
        suffix = "ec2.internal" if self.region == "us-east-1" else f"{self.region}.compute.internal"
        return f"ip-{self.private_ip.replace('.', '-')}.{suffix}"


@dataclasses.dataclass(frozen=True)
class RunResult:
    exit_code: int | None  # None when the command was killed at its timeout
    output: str  # stdout and stderr, interleaved as written
    timed_out: bool


class InstanceError(RuntimeError):
    """A local instance cannot do what was asked; the message is one line for the user."""
