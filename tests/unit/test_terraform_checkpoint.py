"""Terraform never calls HashiCorp's checkpoint service from here: every run of ours, and the
shell settings `terraform-env` prints for the cdktf CLI, carry CHECKPOINT_DISABLE=1."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from xrdeploy.terraform.command import Terraform, terraform_env


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
