"""Every terraform of ours, and the shell settings `terraform-env` prints for the cdktf CLI,
carry CHECKPOINT_DISABLE=1 (Terraform never calls HashiCorp's checkpoint service from here) and
GOGC=400 unless the user set GOGC (Terraform and the provider spend less CPU collecting)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from xrdeploy.terraform.command import GOGC_DEFAULT, Terraform, terraform_env


def test_every_terraform_run_disables_the_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a stand-in terraform that prints what it was given, in a shell that did not set it
    monkeypatch.delenv("CHECKPOINT_DISABLE", raising=False)
    binary = tmp_path / "terraform"
    binary.write_text('#!/bin/sh\necho "CHECKPOINT_DISABLE=${CHECKPOINT_DISABLE:-unset}"\n')
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    terraform = Terraform(tmp_path, extra_env={"TF_LOG": "off"}, binary=str(binary))

    # WHEN a command runs THEN it ran with the checkpoint off
    assert terraform.run("version").stdout.strip() == "CHECKPOINT_DISABLE=1"


def test_terraform_env_disables_the_checkpoint(tmp_path: Path) -> None:
    assert terraform_env(tmp_path)["CHECKPOINT_DISABLE"] == "1"


def test_every_terraform_run_collects_garbage_less_often_unless_the_user_chose(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    binary = tmp_path / "terraform"
    binary.write_text('#!/bin/sh\necho "GOGC=${GOGC:-unset}"\n')
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    terraform = Terraform(tmp_path, binary=str(binary))

    monkeypatch.delenv("GOGC", raising=False)
    assert terraform.run("version").stdout.strip() == f"GOGC={GOGC_DEFAULT}"
    assert terraform_env(tmp_path)["GOGC"] == GOGC_DEFAULT

    monkeypatch.setenv("GOGC", "150")
    assert terraform.run("version").stdout.strip() == "GOGC=150"
    assert terraform_env(tmp_path)["GOGC"] == "150"
