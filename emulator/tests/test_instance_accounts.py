"""ec2-user in a local instance's account files, as Amazon Linux's image has it."""

from __future__ import annotations

from pathlib import Path

import pytest

from xrdeploy_local_cloud.instances import accounts
from xrdeploy_local_cloud.instances.accounts import EC2_USER

PASSWD = """\
root:x:0:0:root:/root:/bin/bash
cloudsdk:x:1000:1000::/home/cloudsdk:/bin/bash
devuser:x:1001:1001::/home/devuser:/bin/bash
"""


def test_ec2_user_takes_uid_1000_from_a_host_user_of_another_name() -> None:
    lines = accounts.passwd_with(PASSWD, EC2_USER).splitlines()
    assert lines == [
        "root:x:0:0:root:/root:/bin/bash",
        "devuser:x:1001:1001::/home/devuser:/bin/bash",
        "ec2-user:x:1000:1000:EC2 Default User:/home/ec2-user:/bin/bash",
    ]


def test_adding_twice_leaves_one_entry_in_each_file() -> None:
    group = accounts.group_with(accounts.group_with("root:x:0:\n", EC2_USER), EC2_USER)
    assert group == "root:x:0:\nec2-user:x:1000:\n"
    shadow = accounts.shadow_with(accounts.shadow_with("", EC2_USER), EC2_USER)
    # Locked, and no expired last change: `su ec2-user` asks for no new password.
    assert shadow == "ec2-user:!!::0:99999:7:::\n"


def test_add_writes_the_files_and_the_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "passwd").write_text(PASSWD)
    chowned: list[tuple[str, int, int]] = []
    monkeypatch.setattr("os.chown", lambda p, u, g: chowned.append((str(p), u, g)))
    home = tmp_path / "home" / "ec2-user"
    accounts.add(
        accounts.Account("ec2-user", 1000, 1000, "EC2 Default User", str(home), "/bin/bash"), etc
    )
    assert "ec2-user:x:1000:1000" in (etc / "passwd").read_text()
    assert (etc / "shadow").stat().st_mode & 0o777 == 0o640
    assert home.is_dir() and home.stat().st_mode & 0o777 == 0o700
    assert chowned == [(str(home), 1000, 1000)]
