"""``service`` stand-in, as Amazon Linux 2 and 2023 have it: with systemd as init, ``service NAME
ACTION`` says so on stderr and hands the basic LSB actions to ``systemctl`` (here the
``systemctl`` stand-in); other actions are refused with the real script's message."""

from __future__ import annotations

import sys

from xrdeploy_local_cloud.instances import units
from xrdeploy_local_cloud.instances.standins import Forward, systemctl

VERSION = "service ver. 1.1 (xrdeploy local instance stand-in)"
USAGE = "Usage: service < option > | --status-all | [ service_name [ command | --full-restart ] ]"
LSB_ACTIONS = ("start", "stop", "restart", "try-restart", "reload", "force-reload", "status")
# The initscripts script's aliases for the old SysV verbs.
ALIASES = {"condrestart": "try-restart", "--full-restart": "restart"}
USAGE_ERROR = 1
UNSUPPORTED_ACTION = 2


def redirect(argv: list[str]) -> Forward:
    if argv and argv[0] in ("--version", "-V"):
        return Forward(stdout=VERSION + "\n")
    if len(argv) < 2 or argv[0].startswith("-"):
        return Forward(stderr=USAGE + "\n", code=USAGE_ERROR)
    name, action, options = argv[0], ALIASES.get(argv[1], argv[1]), argv[2:]
    if action not in LSB_ACTIONS:
        return Forward(
            stderr="The service command supports only basic LSB actions (start, stop, restart, "
            "try-restart, reload, force-reload, status). For other actions, please try to use "
            "systemctl.\n",
            code=UNSUPPORTED_ACTION,
        )
    verb = "reload-or-restart" if action == "force-reload" else action
    unit = units.unit_name(name)
    shown = " ".join([action, *options, unit])
    return Forward((verb, *options, unit), stderr=f"Redirecting to /bin/systemctl {shown}\n")


def main(argv: list[str]) -> int:
    return systemctl.forward(redirect(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
