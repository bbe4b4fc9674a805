"""The uid and gid maps of a local instance's user namespace, and how they get written.

An instance maps a full range of ids (0..65535), so ``ec2-user`` (uid 1000 on Amazon Linux), a
user a hook creates and the owner in appspec ``permissions:`` are real users inside it, and the
kernel enforces ownership and modes between them as on an EC2 instance.

* As root, LocalStack maps the host's ids 0..65535 onto themselves: root may write any map of a
  child's user namespace into ``/proc/PID/uid_map`` and ``gid_map`` directly.
* As a normal user, it maps root inside to its own uid and 1..65535 to a subordinate range that
  ``/etc/subuid`` and ``/etc/subgid`` grant it, written by ``newuidmap``/``newgidmap`` (Debian
  package ``uidmap``), the only way an unprivileged process may map more than its own id.
  (``unshare --map-users`` of util-linux 2.38 calls the same tools, and cannot hold the new
  namespace's first process back until the maps are written, hence our own launcher.)

Pure but for :func:`write_maps` and :func:`current_plan`.
"""

from __future__ import annotations

import dataclasses
import os
import pwd
import shutil
import subprocess
from pathlib import Path

ID_COUNT = 65536  # ids 0..65535 inside, as a distribution's useradd and packages expect
SUBUID_FILE = Path("/etc/subuid")
SUBGID_FILE = Path("/etc/subgid")
MAP_TOOLS = {"uid": "newuidmap", "gid": "newgidmap"}


@dataclasses.dataclass(frozen=True)
class IdRange:
    """``count`` ids from ``inside`` in the namespace are ``outside`` onwards in the parent's."""

    inside: int
    outside: int
    count: int


@dataclasses.dataclass(frozen=True)
class MapPlan:
    """The maps of one instance, and whether the set-uid helpers must write them."""

    uid: tuple[IdRange, ...]
    gid: tuple[IdRange, ...]
    helpers: bool


class MapError(Exception):
    """This host cannot give an instance its id maps; the message is one line with the fix."""


def identity_plan() -> MapPlan:
    full = (IdRange(0, 0, ID_COUNT),)
    return MapPlan(full, full, helpers=False)


def subordinate_ranges(text: str, user: str, uid: int) -> list[tuple[int, int]]:
    """(start, count) of each ``user:start:count`` line of an /etc/subuid-style ``text`` that
    names the user by name or by uid, as shadow's tools read it."""
    found = []
    for line in text.splitlines():
        fields = line.strip().split(":")
        if len(fields) != 3 or fields[0] not in (user, str(uid)):
            continue
        try:
            start, count = int(fields[1]), int(fields[2])
        except ValueError:
            continue
        if count > 0:
            found.append((start, count))
    return found


def subordinate_range(text: str, user: str, uid: int, kind: str) -> IdRange:
    """Ids 1..65535 inside, from the first range of ``text`` large enough for them."""
    for start, count in subordinate_ranges(text, user, uid):
        if count >= ID_COUNT - 1:
            return IdRange(1, start, ID_COUNT - 1)
    raise MapError(
        f"user {user} has no range of {ID_COUNT - 1} subordinate {kind}s in /etc/sub{kind} "
        f"(fix: sudo usermod --add-sub{kind}s 100000-165535 {user})"
    )


def unprivileged_plan(user: str, uid: int, gid: int, subuid: str, subgid: str) -> MapPlan:
    """Root inside is the caller; every other id comes from its subordinate ranges."""
    return MapPlan(
        uid=(IdRange(0, uid, 1), subordinate_range(subuid, user, uid, "uid")),
        gid=(IdRange(0, gid, 1), subordinate_range(subgid, user, gid, "gid")),
        helpers=True,
    )


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def current_plan() -> MapPlan:
    """The plan for this process: identity as root, subordinate ranges otherwise."""
    uid = os.geteuid()
    if uid == 0:
        return identity_plan()
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError as error:
        raise MapError(f"uid {uid} has no name in /etc/passwd for /etc/subuid") from error
    for tool in MAP_TOOLS.values():
        if shutil.which(tool) is None:
            raise MapError(f"`{tool}` is not installed (fix: sudo apt-get install uidmap)")
    return unprivileged_plan(user, uid, os.getegid(), _read(SUBUID_FILE), _read(SUBGID_FILE))


# Kernel settings that refuse user namespaces to a normal user, and how to lift each.
KERNEL_SETTINGS = {
    "kernel/apparmor_restrict_unprivileged_userns": ("1", "0"),  # Ubuntu 23.10 and later
    "kernel/unprivileged_userns_clone": ("0", "1"),  # Debian 10 and older
    "user/max_user_namespaces": ("0", "15000"),
}


def kernel_refusal(euid: int, settings: dict[str, str]) -> str | None:
    """Why the kernel refuses this user a namespace of its own, with the fix (``settings``:
    the values of :data:`KERNEL_SETTINGS` read from /proc/sys, absent ones left out)."""
    for name, (refusing, allowing) in KERNEL_SETTINGS.items():
        if settings.get(name) == refusing and (euid != 0 or name.startswith("user/")):
            setting = name.replace("/", ".")
            return (
                f"the kernel refuses user namespaces ({setting} = {refusing}; "
                f"fix: sudo sysctl -w {setting}={allowing})"
            )
    return None


def kernel_settings() -> dict[str, str]:
    found = {}
    for name in KERNEL_SETTINGS:
        try:
            found[name] = Path("/proc/sys", name).read_text().strip()
        except OSError:
            continue
    return found


def map_text(ranges: tuple[IdRange, ...]) -> str:
    """The ranges as ``/proc/PID/uid_map`` takes them (one write, one line per range)."""
    return "".join(f"{r.inside} {r.outside} {r.count}\n" for r in ranges)


def helper_arguments(ranges: tuple[IdRange, ...]) -> list[str]:
    """The ranges as ``newuidmap PID ...`` takes them."""
    return [str(n) for r in ranges for n in (r.inside, r.outside, r.count)]


def write_maps(pid: int, plan: MapPlan) -> None:
    """Give the user namespace of ``pid`` its maps (from outside it)."""
    for kind, ranges in (("uid", plan.uid), ("gid", plan.gid)):
        if plan.helpers:
            command = [MAP_TOOLS[kind], str(pid), *helper_arguments(ranges)]
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise MapError(f"{' '.join(command)}: {result.stderr.strip()}")
        else:
            Path(f"/proc/{pid}/{kind}_map").write_text(map_text(ranges))
