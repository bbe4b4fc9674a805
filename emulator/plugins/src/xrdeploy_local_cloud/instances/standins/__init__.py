"""Stand-ins for the programs of an Amazon Linux instance that a local instance cannot be:
``dnf``/``yum`` (package manager), ``systemctl`` (service manager) with ``service`` and
``chkconfig`` forwarding to it, and, once "installed" with the ``dnf`` stand-in, ``httpd`` (web
server). Each is a small shell wrapper that runs one of
these modules with LocalStack's Python, which the instance sees through its overlays.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

WRAPPER = """#!/bin/sh
# Stand-in for {tool} in an xrdeploy local instance (see emulator/README.md, "Local instances").
exec '{python}' -I -m xrdeploy_local_cloud.instances.standins.{module} "$@"
"""
# Where the tools live on Amazon Linux 2023.
INSTALLED_AT_START = {
    "usr/bin/dnf": "dnf",
    "usr/bin/yum": "dnf",
    "usr/bin/systemctl": "systemctl",
    "usr/sbin/service": "service",
    "usr/sbin/chkconfig": "chkconfig",
}


@dataclasses.dataclass(frozen=True)
class Forward:
    """What a SysV-era command (``service``, ``chkconfig``) does on a systemd system: print
    ``stdout``/``stderr``, then run ``systemctl`` with ``systemctl`` if that is not empty, else
    exit with ``code``."""

    systemctl: tuple[str, ...] = ()
    stdout: str = ""
    stderr: str = ""
    code: int = 0


def write_wrapper(path: Path, tool: str, module: str, python: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(WRAPPER.format(tool=tool, python=python, module=module))
    path.chmod(0o755)


def install(upper: Path, *, python: str) -> None:
    """Write the wrappers into the overlay upper layers rooted at ``upper`` (``upper/usr/...``)."""
    for relative, module in INSTALLED_AT_START.items():
        write_wrapper(upper / relative, Path(relative).name, module, python)
