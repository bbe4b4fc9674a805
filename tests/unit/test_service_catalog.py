"""LocalStack's service catalog built once per venv (emulator/service_catalog.py), with a stand-in
for the venv's Python that writes a catalog where `python -m localstack.aws.spec` does (under
``$FILESYSTEM_ROOT/usr/lib/localstack``), or fails. That the real build is found and used by a
running LocalStack is the integration tier's (tests/integration/test_local_cloud_start.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.home import EmulatorError
from emulator.service_catalog import (
    BUILD_ROOT,
    STATIC_LIBS,
    catalog_files,
    ensure_service_catalog,
    link_service_catalog,
)

CATALOG = "service-catalog-1_0_0-1_2_3.dill"


def stand_in_venv(tmp_path: Path, script: str) -> Path:
    """A venv whose bin/python runs `script` (sh) and counts its runs in ../runs."""
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\necho run >> "{tmp_path}/runs"\n{script}\n')
    python.chmod(0o755)
    return venv


def runs(tmp_path: Path) -> int:
    log = tmp_path / "runs"
    return len(log.read_text().splitlines()) if log.exists() else 0


def writes_a_catalog() -> str:
    return f'printf catalog > "$FILESYSTEM_ROOT/{STATIC_LIBS}/{CATALOG}"'


def test_the_catalog_is_built_once_per_venv_then_found(tmp_path: Path) -> None:
    # GIVEN a venv whose LocalStack writes a catalog
    venv = stand_in_venv(tmp_path, writes_a_catalog())
    progress: list[str] = []

    # WHEN it is ensured twice
    first = ensure_service_catalog(venv, progress.append)
    second = ensure_service_catalog(venv, progress.append)

    # THEN LocalStack ran once, its file is in the venv, and the build's scratch root is gone
    assert runs(tmp_path) == 1 and len(progress) == 1
    assert first == second == [venv / BUILD_ROOT / STATIC_LIBS / CATALOG]
    assert first[0].read_text() == "catalog"
    assert sorted(p.name for p in venv.iterdir()) == ["bin", BUILD_ROOT]


@pytest.mark.parametrize(
    "script",
    [
        pytest.param("echo 'ModuleNotFoundError: localstack' >&2; exit 1", id="it fails"),
        pytest.param(f"{writes_a_catalog()}; exit 1", id="it fails after writing"),
        pytest.param("exit 0", id="it writes nothing"),
    ],
)
def test_a_failed_build_is_one_line_and_leaves_no_catalog(tmp_path: Path, script: str) -> None:
    # GIVEN a venv whose LocalStack cannot build the catalog
    venv = stand_in_venv(tmp_path, script)

    # WHEN it is ensured THEN the error is one line naming the venv
    with pytest.raises(EmulatorError) as raised:
        ensure_service_catalog(venv, lambda _: None)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"building LocalStack's service catalog in {venv}: ")

    # AND nothing is left that a run would link, so the next ensure tries again
    assert catalog_files(venv) == []
    assert sorted(p.name for p in venv.iterdir()) == ["bin"]


def test_a_run_links_the_venvs_catalog_into_its_static_libraries(tmp_path: Path) -> None:
    # GIVEN a venv with a built catalog and a run's empty file-system root
    venv = stand_in_venv(tmp_path, writes_a_catalog())
    [built] = ensure_service_catalog(venv, lambda _: None)
    root = tmp_path / "run" / "fs"

    # WHEN the run links it THEN LocalStack finds it where its image would have it
    link_service_catalog(venv, root)
    linked = root / STATIC_LIBS / CATALOG
    assert linked.is_symlink() and linked.resolve() == built.resolve()


def test_a_venv_without_a_catalog_links_nothing(tmp_path: Path) -> None:
    venv = stand_in_venv(tmp_path, "exit 1")
    root = tmp_path / "run" / "fs"
    link_service_catalog(venv, root)
    assert not root.exists()
