"""Every synthesized stack is valid Terraform for the pinned AWS provider."""

from __future__ import annotations

import pytest

from xrdeploy.terraform.command import Terraform

CASES = [
    ("default", "aws"),
    ("single_account", "aws"),
    ("one_stage", "aws"),
    ("five_stage", "aws"),
    ("wave", "aws"),
    ("github_source", "aws"),
    ("codecommit_source", "aws"),
    ("default", "localstack"),
    ("local_wave", "localstack"),
    ("github_source", "localstack"),
]


@pytest.mark.parametrize(("config", "target"), CASES)
def test_every_stack_passes_terraform_validate(synthesized, config, target):
    for stack in synthesized(config, target).stacks:
        terraform = Terraform(stack.directory)
        terraform.init(backend=False)
        report = terraform.validate()
        assert report["valid"] is True, (stack.name, report["diagnostics"])
        assert report["warning_count"] == 0, (stack.name, report["diagnostics"])
