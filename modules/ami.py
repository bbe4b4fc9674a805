"""Which AMI a fleet runs: AWS's public SSM parameters for the latest Amazon Linux 2023 and
Windows Server images (pure: no provider import, so config validation can use it too)."""

from __future__ import annotations

import re

# Graviton families carry a "g" after the generation digit: t4g, m7gd, c6gn, is4gen.
_FAMILY = re.compile(r"^[a-z]+\d+(?P<attributes>[a-z-]*)$")
WINDOWS_AMI_PARAMETER = "/aws/service/ami-windows-latest/Windows_Server-2022-English-Full-Base"


def is_graviton(instance_type: str) -> bool:
    match = _FAMILY.match(instance_type.split(".", 1)[0])
    return bool(match and "g" in match["attributes"])


def ami_parameter(instance_type: str, os: str = "linux") -> str:
    """The public SSM parameter holding the latest AMI for this OS and CPU. Windows Server is
    x86_64 only (config validation refuses a Graviton type for it)."""
    if os == "windows":
        return WINDOWS_AMI_PARAMETER
    arch = "arm64" if is_graviton(instance_type) else "x86_64"
    return f"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-{arch}"
