"""``chkconfig`` stand-in, as Amazon Linux 2 and 2023 have it with systemd as init: for a service
that is a systemd unit, ``chkconfig NAME on|off`` forwards to ``systemctl enable|disable`` (here
the ``systemctl`` stand-in) with chkconfig's note, ``chkconfig NAME`` answers by exit code;
``--list`` shows SysV services only, and a local instance has none, so it prints chkconfig's note
and, for a name, chkconfig's error for a service without an init script."""

from __future__ import annotations

import sys

from xrdeploy_local_cloud.instances import units
from xrdeploy_local_cloud.instances.standins import Forward, systemctl

VERSION = "chkconfig version 1.24 (xrdeploy local instance stand-in)"
USAGE = (
    "usage:   chkconfig [--list] [--type <type>] [name]\n"
    "         chkconfig --add <name>\n"
    "         chkconfig --del <name>\n"
    "         chkconfig [--level <levels>] [--type <type>] <name> <on|off|reset|resetpriorities>\n"
)
LIST_NOTE = """
Note: This output shows SysV services only and does not include native
      systemd services. SysV configuration data might be overridden by native
      systemd configuration.

      If you want to list systemd services use 'systemctl list-unit-files'.
      To see services enabled on particular target use
      'systemctl list-dependencies [target]'.

"""
VERBS = {"on": "enable", "off": "disable"}


def _options(argv: list[str]) -> tuple[set[str], list[str]]:
    """chkconfig's flags and its other words; the value of ``--level``/``--type`` is dropped
    (systemd has no runlevels, and a local instance has no xinetd)."""
    flags: set[str] = set()
    words: list[str] = []
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word in ("--level", "--type"):
            skip = True
        elif word.startswith("-"):
            flags.add(word)
        else:
            words.append(word)
    return flags, words


def _unknown(name: str) -> str:
    return f"error reading information on service {name}: No such file or directory\n"


def forward(argv: list[str]) -> Forward:
    flags, words = _options(argv)
    if "--version" in flags:
        return Forward(stdout=VERSION + "\n")
    if "--list" in flags:
        if words:
            return Forward(stdout=LIST_NOTE, stderr=_unknown(words[0]), code=1)
        return Forward(stdout=LIST_NOTE)
    if flags - {"--add", "--del"} or not words or len(words) > 2:
        return Forward(stderr=USAGE, code=1)
    name = words[0]
    unit = units.unit_name(name)
    if units.find(unit) is None or flags:
        # --add/--del act on init scripts, and an instance has none.
        return Forward(stderr=_unknown(name), code=1)
    if len(words) == 1:
        return Forward(("is-enabled", "--quiet", unit))
    verb = VERBS.get(words[1])
    if verb is None:
        return Forward(
            stderr=f"chkconfig (stand-in of the local instance): '{words[1]}' is not supported\n",
            code=1,
        )
    return Forward((verb, unit), stderr=f"Note: Forwarding request to 'systemctl {verb} {unit}'.\n")


def main(argv: list[str]) -> int:
    return systemctl.forward(forward(argv))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
