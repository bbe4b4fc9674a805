"""The sample app is a CodeDeploy revision the agent accepts, packaged as CodeDeploy expects."""

from __future__ import annotations

import shutil
import stat
import zipfile

import yaml

from tests.conftest import REPO_ROOT
from xrdeploy.appspec import SCRIPTABLE_HOOKS, check_revision
from xrdeploy.cli.main import run
from xrdeploy.packaging import build_zip

SAMPLE = REPO_ROOT / "sample_app"


def test_sample_appspec_is_valid():
    assert check_revision(SAMPLE) == []
    spec = yaml.safe_load((SAMPLE / "appspec.yml").read_text())
    assert set(spec["hooks"]) == {
        "BeforeInstall",
        "AfterInstall",
        "ApplicationStart",
        "ValidateService",
    }
    assert set(spec["hooks"]) <= SCRIPTABLE_HOOKS


def test_every_hook_script_is_an_executable_bash_script_with_strict_mode():
    spec = yaml.safe_load((SAMPLE / "appspec.yml").read_text())
    for scripts in spec["hooks"].values():
        for script in scripts:
            path = SAMPLE / script["location"]
            text = path.read_text()
            assert text.startswith("#!/bin/bash\n") and "set -euo pipefail" in text
            assert path.stat().st_mode & stat.S_IXUSR


def test_page_shows_version_stage_and_region():
    template = (SAMPLE / "site" / "index.html.template").read_text()
    for placeholder in ("@VERSION@", "@STAGE@", "@REGION@"):
        assert placeholder in template
    render = (SAMPLE / "scripts" / "render_page.sh").read_text()
    assert all(p in render for p in ("@VERSION@", "@STAGE@", "@REGION@"))


def test_check_revision_names_each_broken_hook(tmp_path):
    broken = tmp_path / "app"
    shutil.copytree(SAMPLE, broken)
    (broken / "scripts" / "start_server.sh").chmod(0o644)
    (broken / "scripts" / "validate_service.sh").unlink()
    text = (broken / "appspec.yml").read_text().replace("AfterInstall:", "Install:")
    (broken / "appspec.yml").write_text(text)
    problems = check_revision(broken)
    assert "hooks.Install: not a lifecycle hook a script can run in" in problems
    assert any("start_server.sh is not executable" in p for p in problems)
    assert any("validate_service.sh does not exist" in p for p in problems)


def test_package_has_appspec_at_root_and_keeps_exec_bits(tmp_path):
    archive = build_zip(SAMPLE, tmp_path / "app.zip")
    with zipfile.ZipFile(archive) as bundle:
        names = bundle.namelist()
        assert names[0] == "VERSION" and "appspec.yml" in names
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in bundle.infolist()}
    assert modes["scripts/start_server.sh"] == 0o755
    assert modes["appspec.yml"] == 0o644
    # Same input, same bytes: the promoted artifact's checksum is reproducible.
    assert build_zip(SAMPLE, tmp_path / "again.zip").read_bytes() == archive.read_bytes()


def test_package_app_command_refuses_a_broken_revision_without_writing(tmp_path, capsys):
    broken = tmp_path / "app"
    broken.mkdir()
    output = tmp_path / "out.zip"
    code = run(["package-app", str(broken), "--output", str(output)])
    assert code == 2
    assert "appspec.yml is missing" in capsys.readouterr().err
    assert not output.exists()
