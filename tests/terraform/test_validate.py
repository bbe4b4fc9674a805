"""Every synthesized stack is valid Terraform for the pinned AWS provider.

The stacks of all the configs below are validated in one `terraform validate`, each as a module of
one root: a validate's cost is mostly fixed (hashing the 700 MB provider against the lock file,
starting it, decoding its schema), and a module's resources, data sources and provider blocks are
checked against the same schema as a root's. Two things differ from validating a stack alone, and
neither is something validate checks: each module's backend block is left out (Terraform ignores a
module's backend with a warning; `init -backend=false`, as for a lone stack, never reads it), and
the stacks' assets are gathered in the root, since Terraform reads the relative paths of `file()`
and `filebase64sha256()` from the working directory (asset folders are named by stack and content
hash, so they cannot collide). Each root validation of a stack is in tests/terraform/test_hcl.py
(the default chain, as HCL) and every plan of the integration tier.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from xrdeploy.terraform.command import PROVIDER_LOCK_FILE, Terraform
from xrdeploy.terraform.synth import SynthesizedStack

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
MODULES = Path("stacks")


def module_name(config: str, target: str, stack: str) -> str:
    return f"{config}_{target}_{stack}".replace("-", "_")


def validate_as_modules(root: Path, stacks: dict[str, SynthesizedStack]) -> dict[str, object]:
    """`terraform validate -json` of a root in `root` with each stack as the module named by its
    key."""
    modules: dict[str, dict[str, str]] = {}
    for name, stack in stacks.items():
        directory = root / MODULES / name
        directory.mkdir(parents=True)
        document = json.loads(stack.json_path.read_text())
        document["terraform"].pop("backend")
        (directory / stack.json_path.name).write_text(json.dumps(document))
        if (stack.directory / "assets").is_dir():
            shutil.copytree(stack.directory / "assets", root / "assets", dirs_exist_ok=True)
        modules[name] = {"source": f"./{MODULES / name}"}
    (root / "main.tf.json").write_text(json.dumps({"module": modules}))
    shutil.copyfile(PROVIDER_LOCK_FILE, root / ".terraform.lock.hcl")
    terraform = Terraform(root)
    terraform.init(backend=False)
    return terraform.validate()


def diagnostics_of(report: dict[str, object], module: str) -> list[dict[str, object]]:
    """The diagnostics in the module's files, and those that name no file (they concern all)."""
    folder = f"{MODULES / module}/"
    found = []
    for diagnostic in report["diagnostics"]:  # type: ignore[attr-defined]
        filename = (diagnostic.get("range") or {}).get("filename", "")
        if not filename or filename.startswith(folder):
            found.append(diagnostic)
    return found


@pytest.fixture(scope="module")
def report(synthesized, tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    stacks = {
        module_name(config, target, stack.name): stack
        for config, target in CASES
        for stack in synthesized(config, target).stacks
    }
    return validate_as_modules(tmp_path_factory.mktemp("validate"), stacks)


@pytest.mark.parametrize(("config", "target"), CASES)
def test_every_stack_passes_terraform_validate(synthesized, report, config, target):
    stacks = synthesized(config, target).stacks
    assert stacks
    for stack in stacks:
        diagnostics = diagnostics_of(report, module_name(config, target, stack.name))
        assert diagnostics == [], (stack.name, diagnostics)


def test_the_root_of_every_stack_validates_with_no_warning(report):
    assert report["valid"] is True, report["diagnostics"]
    assert report["warning_count"] == 0, report["diagnostics"]


def test_an_invalid_stack_is_reported_in_its_own_module(synthesized, tmp_path: Path):
    # GIVEN one stage's stack with an argument its resource does not have, beside a valid one
    valid = synthesized("one_stage", "aws").stacks[0]
    broken_dir = tmp_path / "broken"
    shutil.copytree(valid.directory, broken_dir, ignore=shutil.ignore_patterns(".terraform"))
    broken = dataclasses.replace(valid, directory=broken_dir)
    document = json.loads(broken.json_path.read_text())
    bucket = next(iter(document["resource"]["aws_s3_bucket"].values()))
    bucket["no_such_argument"] = True
    broken.json_path.write_text(json.dumps(document))
    # WHEN both are validated as modules of one root
    report = validate_as_modules(tmp_path / "root", {"valid": valid, "broken": broken})
    # THEN the error is the broken module's, and the valid one has none
    assert report["valid"] is False
    [error] = diagnostics_of(report, "broken")
    assert error["severity"] == "error"
    assert error["summary"] == "Extraneous JSON object property"
    assert diagnostics_of(report, "valid") == []
