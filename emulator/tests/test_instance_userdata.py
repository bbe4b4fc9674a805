"""User data at a local instance's first boot, as cloud-init runs it: a ``#!`` script, or
cloud-config's write_files, packages and runcmd in cloud-init's order; the console output."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path

from pytest import MonkeyPatch

from xrdeploy_local_cloud.instances import instance, userdata
from xrdeploy_local_cloud.instances.spec import InstanceSpec, RunResult

CLOUD_CONFIG = """#cloud-config
write_files:
  - path: /etc/app/settings.conf
    content: |
      port=8080
  - path: /opt/app/run.sh
    permissions: '0755'
    encoding: b64
    content: {encoded}
packages:
  - httpd
runcmd:
  - echo booted > /var/tmp/booted
  - [systemctl, enable, --now, httpd]
bootcmd:
  - echo early
"""


class FakeBox:
    def __init__(self, exit_codes: Mapping[str, int] | None = None) -> None:
        self.files: dict[str, tuple[bytes, int]] = {}
        self.ran: list[str] = []
        self.exit_codes = exit_codes or {}

    def run(
        self, argv: list[str], *, env: Mapping[str, str], cwd: str, timeout: float
    ) -> RunResult:
        self.ran.append(argv[0])
        return RunResult(self.exit_codes.get(argv[0], 0), f"ran {argv[0]}\n", False)

    def write_file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        self.files[path] = (data, mode)


def test_a_script_runs_as_it_is() -> None:
    box = FakeBox()
    console = userdata.boot(box, "#!/bin/bash\necho hello\n")
    assert box.files[userdata.SCRIPT_PATH] == (b"#!/bin/bash\necho hello\n", 0o700)
    assert box.ran == [userdata.SCRIPT_PATH]
    assert f"ran {userdata.SCRIPT_PATH}" in console


def test_cloud_config_writes_files_then_installs_packages_then_runs_runcmd() -> None:
    encoded = base64.b64encode(b"#!/bin/sh\nexec app\n").decode()
    box = FakeBox()
    console = userdata.boot(box, CLOUD_CONFIG.format(encoded=encoded))
    assert box.files["/etc/app/settings.conf"] == (b"port=8080\n", 0o644)
    assert box.files["/opt/app/run.sh"] == (b"#!/bin/sh\nexec app\n", 0o755)
    packages, runcmd = box.ran
    assert box.files[packages][0] == b"#!/bin/sh\ndnf install -y httpd\n"
    assert box.files[runcmd][0] == (
        b"#!/bin/sh\necho booted > /var/tmp/booted\nsystemctl enable --now httpd\n"
    )
    assert "cloud-config key 'bootcmd' is not run by the stand-in" in console


def test_a_failing_part_ends_the_boot_there() -> None:
    box = FakeBox({"/var/lib/cloud/instance/scripts/packages": 1})
    console = userdata.boot(box, "#cloud-config\npackages: [nosuch]\nruncmd: [touch /x]\n")
    assert box.ran == ["/var/lib/cloud/instance/scripts/packages"]
    assert "failed with exit code 1" in console


def test_other_user_data_runs_nothing() -> None:
    box = FakeBox()
    console = userdata.boot(box, "just some text")
    assert box.ran == [] and box.files == {}
    assert "neither a #! script nor #cloud-config" in console


def test_user_data_runs_at_the_first_boot_only(tmp_path: Path, monkeypatch: MonkeyPatch) -> None:
    spec = InstanceSpec(
        instance_id="i-0123456789abcdef0",
        account_id="111111111111",
        region="us-west-2",
        availability_zone="us-west-2a",
        private_ip="10.0.1.5",
        instance_type="t3.micro",
        image_id="ami-0123456789abcdef0",
        tags={},
        iam_role_name=None,
        user_data="#!/bin/sh\necho hi\n",
    )
    boots: list[str] = []

    def boot(box: object, user_data: str) -> str:
        boots.append(user_data)
        return "hi\n"

    monkeypatch.setattr(userdata, "boot", boot)
    local = instance.LocalInstance(spec, tmp_path, None)
    local.first_boot()
    local.first_boot()
    assert boots == [spec.user_data]
    assert local.console_output == "hi\n"
