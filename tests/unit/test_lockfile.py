"""The committed provider lock file pins the provider the binding was generated for, in the form
the cdktf CLI accepts without running `terraform providers lock`; and the Node.js check."""

from __future__ import annotations

import json
import logging
import os
import re
import tarfile
from datetime import date
from importlib import metadata
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from xrdeploy.errors import ToolError
from xrdeploy.terraform.command import (
    AWS_PROVIDER_ADDRESS,
    AWS_PROVIDER_VERSION,
    PROVIDER_LOCK_FILE,
)
from xrdeploy.terraform.synth import MINIMUM_NODE_MAJOR, check_node

BINDING = "cdktf-cdktf-provider-aws"
ENTRY = re.compile(r'provider "([^"]+)" \{(.*?)\n\}', re.DOTALL)


def lock_entries() -> dict[str, dict[str, object]]:
    entries: dict[str, dict[str, object]] = {}
    for address, body in ENTRY.findall(PROVIDER_LOCK_FILE.read_text()):
        version = re.search(r'^\s*version\s+=\s+"([^"]+)"', body, re.MULTILINE)
        constraints = re.search(r'^\s*constraints\s+=\s+"([^"]+)"', body, re.MULTILINE)
        entries[address] = {
            "version": version.group(1) if version else None,
            "constraints": constraints.group(1) if constraints else None,
            "hashes": re.findall(r'"((?:h1|zh):[^"]+)"', body),
        }
    return entries


def binding_provider() -> dict[str, str]:
    """The provider the installed binding was generated for, from its jsii package manifest."""
    files = metadata.files(BINDING) or []
    tarball = next(f for f in files if str(f).endswith(".jsii.tgz"))
    with tarfile.open(str(tarball.locate()), "r|gz") as archive:
        for member in archive:
            if member.name == "package/package.json":
                extracted = archive.extractfile(member)
                assert extracted is not None
                provider: dict[str, str] = json.load(extracted)["cdktf"]["provider"]
                return provider
    raise AssertionError("package.json not found in the binding's jsii tarball")


def test_lock_file_pins_the_provider_the_pinned_binding_was_generated_for():
    pipfile_pin = re.search(rf'^{BINDING} = "==([^"]+)"', (REPO_ROOT / "Pipfile").read_text(), re.M)
    assert pipfile_pin is not None
    assert metadata.version(BINDING) == pipfile_pin.group(1)
    provider = binding_provider()
    assert provider["name"] == AWS_PROVIDER_ADDRESS
    assert provider["version"] == AWS_PROVIDER_VERSION
    assert list(lock_entries()) == [AWS_PROVIDER_ADDRESS]
    assert lock_entries()[AWS_PROVIDER_ADDRESS]["version"] == AWS_PROVIDER_VERSION


def test_lock_constraint_equals_the_stacks_so_cdktf_skips_its_registry_lock_step():
    # cdktf runs `terraform providers lock` (registry only) unless the lock's constraints line
    # matches the stack's required_providers version.
    for golden in sorted((REPO_ROOT / "tests" / "golden" / "default").glob("*.tf.json")):
        required = json.loads(golden.read_text())["terraform"]["required_providers"]["aws"]
        assert lock_entries()[AWS_PROVIDER_ADDRESS]["constraints"] == required["version"]


def test_lock_file_has_an_unpacked_build_hash_and_the_release_zip_hashes():
    hashes = lock_entries()[AWS_PROVIDER_ADDRESS]["hashes"]
    assert isinstance(hashes, list)
    # h1: verifies an unpacked mirror; zh: verifies a downloaded zip, one per released platform.
    assert any(h.startswith("h1:") for h in hashes)
    assert sum(h.startswith("zh:") for h in hashes) >= 4
    assert all(re.fullmatch(r"zh:[0-9a-f]{64}", h) for h in hashes if h.startswith("zh:"))


def test_package_json_and_makefile_require_the_node_the_check_requires():
    engines = json.loads((REPO_ROOT / "package.json").read_text())["engines"]
    assert engines["node"] == f">={MINIMUM_NODE_MAJOR}"
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert re.search(rf"^NODE_MIN := {MINIMUM_NODE_MAJOR}$", makefile, re.MULTILINE)


def fake_node(directory: Path, version: str) -> None:
    script = directory / "node"
    script.write_text(f"#!/bin/sh\necho {version}\n")
    script.chmod(0o755)


def test_node_missing_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolError) as raised:
        check_node()
    assert raised.value.problems == [
        "node: not found on PATH; cdktf needs Node.js >= 20: install Node.js 22 or 24 (LTS)"
    ]


def test_node_too_old_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    fake_node(tmp_path, "v18.20.4")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolError, match=r"node v18\.20\.4: cdktf needs Node\.js >= 20"):
        check_node()


def test_end_of_life_node_warns_in_one_line_and_replaces_jsiis_banner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    fake_node(tmp_path, "v20.20.2")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", raising=False)
    with caplog.at_level(logging.WARNING, logger="xrdeploy.terraform.synth"):
        assert check_node(today=date(2026, 5, 1)) == "v20.20.2"
    assert [r.getMessage() for r in caplog.records] == [
        "node v20.20.2 reached its end of life on 2026-04-30; cdktf still runs on it, "
        "but install Node.js 22 or 24 (LTS)"
    ]
    assert os.environ["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] == "20"


def test_supported_node_is_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    fake_node(tmp_path, "v22.11.0")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", raising=False)
    with caplog.at_level(logging.WARNING, logger="xrdeploy.terraform.synth"):
        assert check_node(today=date(2026, 12, 1)) == "v22.11.0"
    assert caplog.records == []
    assert "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION" not in os.environ
