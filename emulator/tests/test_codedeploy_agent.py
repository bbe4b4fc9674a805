"""The agent's file work: unpack, the previous cleanup list, file_exists_behavior, permissions,
and which revision's scripts a hook event runs."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

from xrdeploy_local_cloud.codedeploy import agent, appspec


def _bundle(layout: agent.Layout, files: dict[str, str]) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o100755 if name.endswith(".sh") else 0o100644) << 16
            archive.writestr(info, text)
    layout.deployment_dir.mkdir(parents=True)
    (layout.deployment_dir / "bundle.tar").write_bytes(buffer.getvalue())


def _spec(dest: Path, extra: str = "") -> str:
    return f"version: 0.0\nos: linux\nfiles:\n  - source: site\n    destination: {dest}\n{extra}"


def _deploy(
    tmp_path: Path, deployment: str, files: dict[str, str], behavior: str = "DISALLOW"
) -> agent.Layout:
    layout = agent.Layout(str(tmp_path / "root"), "group-1", deployment)
    _bundle(layout, files)
    agent.unpack(layout)
    agent.install(layout, behavior)
    return layout


def test_install_replaces_what_the_previous_deployment_installed(tmp_path: Path) -> None:
    dest = tmp_path / "www" / "site"
    _deploy(
        tmp_path, "d-1", {"appspec.yml": _spec(dest), "site/old.html": "old", "site/a/b.txt": "b"}
    )
    assert (dest / "a" / "b.txt").read_text() == "b"
    _deploy(tmp_path, "d-2", {"appspec.yml": _spec(dest), "site/new.html": "new"})
    assert sorted(p.name for p in dest.iterdir()) == ["new.html"]  # d-1's files and dirs removed
    assert (
        (tmp_path / "root" / "deployment-instructions" / "group-1_last_successful_install")
        .read_text()
        .endswith("d-2")
    )


def test_file_exists_behavior_decides_about_files_nobody_installed(tmp_path: Path) -> None:
    dest = tmp_path / "www"
    dest.mkdir()
    (dest / "index.html").write_text("theirs")
    files = {"appspec.yml": _spec(dest), "site/index.html": "ours"}
    with pytest.raises(agent.AgentError, match="already exists at this location"):
        _deploy(tmp_path, "d-1", files, "DISALLOW")
    _deploy(tmp_path, "d-2", files, "RETAIN")
    assert (dest / "index.html").read_text() == "theirs"
    _deploy(tmp_path, "d-3", files, "OVERWRITE")
    assert (dest / "index.html").read_text() == "ours"


def test_the_appspecs_file_exists_behavior_wins_over_the_deployments(tmp_path: Path) -> None:
    dest = tmp_path / "www"
    dest.mkdir()
    (dest / "index.html").write_text("theirs")
    spec = _spec(dest, "file_exists_behavior: OVERWRITE\n")
    _deploy(tmp_path, "d-1", {"appspec.yml": spec, "site/index.html": "ours"}, "DISALLOW")
    assert (dest / "index.html").read_text() == "ours"


def test_permissions_apply_to_the_installed_files_that_match(tmp_path: Path) -> None:
    dest = tmp_path / "www"
    permissions = (
        f"permissions:\n  - object: {dest}\n    pattern: '*.sh'\n    mode: 750\n    type: [file]\n"
    )
    _deploy(
        tmp_path,
        "d-1",
        {"appspec.yml": _spec(dest, permissions), "site/run.sh": "x", "site/page.html": "p"},
    )
    assert stat.S_IMODE((dest / "run.sh").stat().st_mode) == 0o750
    assert stat.S_IMODE((dest / "page.html").stat().st_mode) == 0o644


def test_application_stop_runs_the_last_successful_revisions_scripts(tmp_path: Path) -> None:
    hooks = "hooks:\n  ApplicationStop:\n    - location: stop.sh\n      timeout: 5\n"
    first = _deploy(
        tmp_path,
        "d-1",
        {"appspec.yml": _spec(tmp_path / "w", hooks), "site/x": "", "stop.sh": "#!/bin/sh\n"},
    )
    second = agent.Layout(first.root.as_posix(), "group-1", "d-2")  # not downloaded yet
    found = agent.hooks(second, "ApplicationStop")
    assert found["deployment_dir"] == str(first.deployment_dir)
    assert [s["location"] for s in found["scripts"]] == ["stop.sh"]
    assert found["scripts"][0]["problem"] is None and found["scripts"][0]["timeout"] == 5


def test_a_missing_script_is_reported_as_script_missing(tmp_path: Path) -> None:
    hooks = "hooks:\n  AfterInstall:\n    - location: nowhere.sh\n"
    layout = _deploy(tmp_path, "d-1", {"appspec.yml": _spec(tmp_path / "w", hooks), "site/x": ""})
    [script] = agent.hooks(layout, "AfterInstall")["scripts"]
    assert script["problem"] == "ScriptMissing" and script["timeout"] == appspec.DEFAULT_TIMEOUT


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: 1.0\nos: linux\n", "version must be 0.0"),
        ("version: 0.0\nos: windows\n", "os must be linux"),
        (
            "version: 0.0\nos: linux\nhooks:\n  Install:\n    - location: x\n",
            "unknown lifecycle events",
        ),
        (
            "version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - {location: x, timeout: 0}\n",
            "positive",
        ),
    ],
)
def test_invalid_appspecs_are_refused_as_the_agent_refuses_them(text: str, message: str) -> None:
    with pytest.raises(appspec.AppSpecError, match=message):
        appspec.parse(text)


def test_a_revision_without_an_appspec_fails_its_install(tmp_path: Path) -> None:
    with pytest.raises(agent.AgentError, match="did not find an AppSpec file"):
        _deploy(tmp_path, "d-1", {"site/x": ""})


def test_an_appspec_that_does_not_parse_downloads_and_fails_the_first_hook_event(
    tmp_path: Path,
) -> None:
    # GIVEN a revision whose AppSpec names a lifecycle event EC2 deployments do not have
    layout = agent.Layout(str(tmp_path / "root"), "group-1", "d-1")
    text = "version: 0.0\nos: linux\nhooks:\n  Install:\n    - location: x\n"
    _bundle(layout, {"appspec.yml": text})
    # WHEN it is unpacked (DownloadBundle) THEN nothing is refused yet, as with the agent
    agent.unpack(layout)
    # AND the next event's hooks report the AppSpec's error
    with pytest.raises(agent.AgentError, match="unknown lifecycle events"):
        agent.hooks(layout, "BeforeInstall")


def test_each_event_gets_its_own_scripts_in_the_appspecs_order(tmp_path: Path) -> None:
    hooks = (
        "hooks:\n  BeforeInstall:\n    - location: a.sh\n"
        "    - location: b.sh\n      runas: nobody\n"
        "  ValidateService:\n    - location: c.sh\n      timeout: 30\n"
    )
    files = {"appspec.yml": _spec(tmp_path / "w", hooks), "site/x": ""}
    files |= {name: "#!/bin/sh\n" for name in ("a.sh", "b.sh", "c.sh")}
    layout = _deploy(tmp_path, "d-1", files)
    before = agent.hooks(layout, "BeforeInstall")["scripts"]
    assert [(s["location"], s["runas"]) for s in before] == [("a.sh", None), ("b.sh", "nobody")]
    [validate] = agent.hooks(layout, "ValidateService")["scripts"]
    assert (validate["location"], validate["timeout"]) == ("c.sh", 30)
    assert agent.hooks(layout, "ApplicationStart")["scripts"] == []


def test_one_answer_holds_each_events_scripts_and_an_appspec_error_fails_it_whole(
    tmp_path: Path,
) -> None:
    hooks = (
        "hooks:\n  BeforeInstall:\n    - location: a.sh\n  ValidateService:\n    - location: b.sh\n"
    )
    files = {"appspec.yml": _spec(tmp_path / "w", hooks), "site/x": "", "a.sh": "#!/bin/sh\n"}
    layout = _deploy(tmp_path, "d-1", files)
    answer = agent.hooks_of(layout, ["BeforeInstall", "AfterInstall", "ValidateService"])
    assert answer == {
        "events": {
            event: agent.hooks(layout, event)
            for event in ("BeforeInstall", "AfterInstall", "ValidateService")
        }
    }
    assert answer["events"]["ValidateService"]["scripts"][0]["problem"] == "ScriptMissing"
    # An AppSpec that no longer parses fails the answer, whichever event it was asked for.
    (layout.archive / "appspec.yml").write_text("version: 1.0\nos: linux\n")
    (layout.deployment_dir / agent.HOOKS_FILE).unlink()
    with pytest.raises(agent.AgentError, match=r"version must be 0\.0"):
        agent.hooks_of(layout, ["AfterInstall"])
