"""Every synthesized stack carries the committed .terraform.lock.hcl, and `terraform init` with the
machine's provider mirror takes the provider from it offline and verifies it against its hash."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from xrdeploy.locking import file_lock
from xrdeploy.terraform.command import (
    PROVIDER_LOCK_FILE,
    Terraform,
    find_provider_mirror,
    terraform_home,
)

LOCK = ".terraform.lock.hcl"


@pytest.fixture
def stack_copy(synthesized, tmp_path: Path) -> Path:
    stack = synthesized("default", "aws").stacks[0]
    directory = tmp_path / "stack"
    shutil.copytree(stack.directory, directory, ignore=shutil.ignore_patterns(".terraform"))
    return directory


def init(directory: Path) -> subprocess.CompletedProcess[str]:
    # The shared plugin cache is not safe for concurrent installs (Terraform.init's lock).
    with file_lock(terraform_home() / "init.lock"):
        return Terraform(directory).run("init", "-input=false", "-backend=false", check=False)


def test_every_stack_gets_the_committed_lock_file(synthesized):
    for config in ("default", "single_account"):
        for stack in synthesized(config, "aws").stacks:
            assert (stack.directory / LOCK).read_bytes() == PROVIDER_LOCK_FILE.read_bytes()


def test_init_takes_the_locked_provider_and_leaves_the_lock_file_as_committed(stack_copy: Path):
    result = init(stack_copy)
    assert result.returncode == 0, result.stderr
    reused = "Reusing previous version of hashicorp/aws from the dependency lock file"
    assert reused in result.stdout
    assert (stack_copy / LOCK).read_bytes() == PROVIDER_LOCK_FILE.read_bytes()


def test_init_refuses_a_provider_that_does_not_match_the_locked_hash(stack_copy: Path):
    assert find_provider_mirror() is not None, "this test needs the machine's provider mirror"
    lock = stack_copy / LOCK
    # Another h1: for the build and no zh: ones: nothing the mirror holds can match.
    tampered = re.sub(r'"h1:[^"]+"', '"h1:' + "A" * 43 + '="', lock.read_text())
    lock.write_text(re.sub(r'\s*"zh:[0-9a-f]+",', "", tampered))
    result = init(stack_copy)
    assert result.returncode == 1
    assert "doesn't match any of the checksums" in " ".join(result.stderr.split())
