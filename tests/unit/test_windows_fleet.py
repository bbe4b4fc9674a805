"""Windows fleets at the edge: `fleet.os` and its RDP rules validated one line per problem, one OS
for the whole chain, the AMI parameter per OS, and a revision whose appspec names another OS
refused by `package-app`."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from modules.ami import WINDOWS_AMI_PARAMETER, ami_parameter
from tests.conftest import CONFIGS, REPO_ROOT
from xrdeploy.appspec import check_revision
from xrdeploy.cli.main import run
from xrdeploy.config.model import load_config, parse_config
from xrdeploy.errors import ConfigError

SAMPLE = REPO_ROOT / "sample_app"


def chain(*fleets: dict[str, Any]) -> dict[str, Any]:
    regions = ("us-east-2", "eu-central-1")
    return {
        "app": {"name": "win"},
        "stages": [
            {
                "name": f"s{index}",
                "account_id": "555555555555",
                "region": regions[index],
                "fleet": {"tag_value": f"S{index}", "http_ingress_cidr": "10.0.0.0/8", **fleet},
            }
            for index, fleet in enumerate(fleets)
        ],
    }


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_config(data, "win.yaml")
    return raised.value.problems


def test_linux_is_the_default_and_the_windows_config_is_valid() -> None:
    assert parse_config(chain({}), "win.yaml").fleet_os == "linux"
    windows = load_config(CONFIGS / "windows.yaml")
    assert windows.fleet_os == "windows"
    assert windows.stages[1].fleet.rdp is not None


def test_each_remote_access_mistake_is_one_line() -> None:
    fleet = {
        "os": "windows",
        "instance_type": "t4g.small",
        "ssh": {"cidr": "10.0.0.0/8", "key_pair": "k"},
        "rdp": {"cidr": "0.0.0.0/0", "key_pair": "k"},
    }
    assert problems(chain(fleet)) == [
        "win.yaml: stages[0].fleet: ssh: a Windows fleet has no SSH; use rdp",
        "win.yaml: stages[0].fleet: rdp.cidr 0.0.0.0/0 opens RDP to the whole internet; use a "
        "narrower CIDR or set allow_rdp_from_anywhere: true",
        "win.yaml: stages[0].fleet: instance_type: t4g.small is a Graviton (arm64) type; "
        "Windows Server needs an x86_64 type such as t3.medium",
    ]
    linux_rdp = {"rdp": {"cidr": "10.0.0.0/8", "key_pair": "k"}}
    assert problems(chain(linux_rdp)) == [
        "win.yaml: stages[0].fleet: rdp: applies only to os: windows; use ssh"
    ]
    assert problems(chain({"os": "macos"}))[0].startswith("win.yaml: stages[0].fleet.os")


def test_rdp_from_anywhere_only_when_asked_by_name() -> None:
    fleet = {
        "os": "windows",
        "rdp": {"cidr": "0.0.0.0/0", "key_pair": "k"},
        "allow_rdp_from_anywhere": True,
    }
    assert parse_config(chain(fleet), "win.yaml").stages[0].fleet.allow_rdp_from_anywhere


def test_every_stage_runs_the_os_of_the_first() -> None:
    assert problems(chain({"os": "windows"}, {})) == [
        "win.yaml: stages[1].fleet.os: linux, but stages[0] runs windows; every stage deploys "
        "the same revision, whose appspec names one os"
    ]


def test_the_ami_parameter_follows_os_and_cpu() -> None:
    assert ami_parameter("t3.medium", "windows") == WINDOWS_AMI_PARAMETER
    assert ami_parameter("t4g.micro").endswith("-arm64")
    assert ami_parameter("t3.micro").endswith("-x86_64")


def windows_revision(tmp_path: Path) -> Path:
    revision = tmp_path / "app"
    shutil.copytree(SAMPLE, revision)
    appspec = revision / "appspec.yml"
    text = appspec.read_text().replace("os: linux", "os: windows")
    text = text.replace("destination: /", "destination: C:\\")
    appspec.write_text(text)
    return revision


def test_the_appspec_must_name_the_fleets_os(tmp_path: Path) -> None:
    assert check_revision(SAMPLE, "linux") == []
    assert check_revision(SAMPLE, "windows") == [
        "appspec.yml os: linux, but the config's fleets run windows (fleet.os)"
    ]
    revision = windows_revision(tmp_path)
    assert check_revision(revision, "windows") == []  # C:\ destinations are absolute there


def test_package_app_refuses_a_linux_revision_for_windows_fleets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["package-app", str(SAMPLE), "-o", str(tmp_path / "a.zip")]
    assert run([*argv, "--config", str(CONFIGS / "windows.yaml")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: {SAMPLE}: appspec.yml os: linux, but the config's fleets run windows (fleet.os)"
    ]
    assert not (tmp_path / "a.zip").exists()
    revision = windows_revision(tmp_path)
    windows = ["package-app", str(revision), "-o", str(tmp_path / "w.zip")]
    assert run([*windows, "--config", str(CONFIGS / "windows.yaml")]) == 0
