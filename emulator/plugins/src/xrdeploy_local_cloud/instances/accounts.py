"""The users of a local instance that Amazon Linux's image has and the host may not: ``ec2-user``
(uid and gid 1000, home ``/home/ec2-user``), added to the instance's own ``/etc/passwd``,
``/etc/group`` and ``/etc/shadow`` (its overlay's copies; the host's stay as they are) at boot.

On Amazon Linux uid 1000 is ``ec2-user``; a host user with that uid or gid under another name is
left out of the instance's files, so ``id``, ``ls -l`` and ``whoami`` name ``ec2-user`` there.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

# shadow's fields after the name: a locked password ("!!", as AL's image has it), no date of the
# last change (an expired "0" would make `su` ask for a new password), then aging.
_SHADOW_REST = "!!::0:99999:7:::"


@dataclasses.dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int
    gecos: str
    home: str
    shell: str


EC2_USER = Account("ec2-user", 1000, 1000, "EC2 Default User", "/home/ec2-user", "/bin/bash")


def _without(text: str, name: str, number: int) -> list[str]:
    """The lines of a passwd- or group-style ``text`` that claim neither ``name`` nor ``number``
    (the third field)."""
    kept = []
    for line in text.splitlines():
        fields = line.split(":")
        if fields[0] == name or (len(fields) > 2 and fields[2] == str(number)):
            continue
        kept.append(line)
    return kept


def passwd_with(text: str, account: Account) -> str:
    numbers = f"{account.uid}:{account.gid}"
    line = f"{account.name}:x:{numbers}:{account.gecos}:{account.home}:{account.shell}"
    return "\n".join([*_without(text, account.name, account.uid), line]) + "\n"


def group_with(text: str, account: Account) -> str:
    line = f"{account.name}:x:{account.gid}:"
    return "\n".join([*_without(text, account.name, account.gid), line]) + "\n"


def shadow_with(text: str, account: Account) -> str:
    kept = [line for line in text.splitlines() if line.split(":")[0] != account.name]
    return "\n".join([*kept, f"{account.name}:{_SHADOW_REST}"]) + "\n"


def add(account: Account, etc: Path = Path("/etc")) -> None:
    """Add ``account`` to the account files under ``etc`` and give it its home directory."""
    for name, build, mode in (
        ("passwd", passwd_with, 0o644),
        ("group", group_with, 0o644),
        ("shadow", shadow_with, 0o640),
    ):
        path = etc / name
        existed = path.exists()
        path.write_text(build(path.read_text() if existed else "", account))
        if not existed:
            path.chmod(mode)
    home = Path(account.home)
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chown(home, account.uid, account.gid)
