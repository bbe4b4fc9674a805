"""The compose file and `make container-test` run the local cloud's image the same way, and the
image's files exist where the compose file says (`make container-test` runs the image itself)."""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from tests.conftest import REPO_ROOT
from tools import container_test

COMPOSE = REPO_ROOT / "docker-compose.localstack.yml"


def service() -> dict[str, Any]:
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert list(services) == ["local-cloud"]
    found: dict[str, Any] = services["local-cloud"]
    return found


def test_compose_builds_the_containerfile_that_container_test_builds():
    build = service()["build"]
    context = REPO_ROOT / build["context"]
    assert context == container_test.CONTEXT
    assert context / build["dockerfile"] == container_test.CONTAINERFILE


def test_compose_grants_what_container_test_runs_with():
    compose = service()
    assert compose["privileged"] is True
    assert compose["network_mode"] == "host"
    limits = {f"{name}={v['soft']}:{v['hard']}" for name, v in compose["ulimits"].items()}
    assert limits == set(container_test.ULIMITS[1::2])


def test_the_entrypoint_exists_and_serves_on_the_configured_port():
    text = container_test.CONTAINERFILE.read_text()
    entrypoint = re.search(r'ENTRYPOINT \["/opt/xrdeploy/emulator/([^"]+)"\]', text)
    assert entrypoint, "ENTRYPOINT must run a script copied from emulator/"
    script = container_test.CONTEXT / entrypoint[1]
    assert os.access(script, os.X_OK)
    assert 'serve --port "$XRDEPLOY_PORT"' in script.read_text()
    assert service()["environment"] == {"XRDEPLOY_PORT": "4566"}


def _context(root: Path) -> Path:
    for name, text in {
        "Containerfile": "FROM base\n",
        "server.py": "print('serve')\n",
        "tests/test_server.py": "def test(): ...\n",
        "plugins/src/pkg/__pycache__/mod.cpython-313.pyc": "compiled",
        "plugins/build/lib/mod.py": "built\n",
    }.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / ".dockerignore").write_text("**/__pycache__\nplugins/build\ntests\n")
    return root


def test_the_images_inputs_change_with_a_context_file_the_base_or_a_mode(tmp_path: Path):
    context = _context(tmp_path)
    before = container_test.build_inputs(context, "base", "id-1")
    assert container_test.build_inputs(context, "base", "id-1") == before
    assert container_test.build_inputs(context, "base", "id-2") != before
    (context / "server.py").write_text("print('serve!')\n")
    edited = container_test.build_inputs(context, "base", "id-1")
    assert edited != before
    (context / "server.py").chmod(0o755)
    assert container_test.build_inputs(context, "base", "id-1") != edited


def test_files_the_dockerignore_leaves_out_do_not_change_the_images_inputs(tmp_path: Path):
    context = _context(tmp_path)
    before = container_test.build_inputs(context, "base", "id-1")
    (context / "tests" / "test_server.py").write_text("def test(): assert True\n")
    (context / "plugins/src/pkg/__pycache__/mod.cpython-313.pyc").write_text("recompiled")
    (context / "plugins/build/lib/mod.py").write_text("rebuilt\n")
    assert container_test.build_inputs(context, "base", "id-1") == before


def test_the_repositorys_dockerignore_is_read_as_podman_reads_it():
    patterns = container_test.dockerignore_patterns(container_test.CONTEXT)
    assert not any(p.startswith("!") for p in patterns)  # an exception would switch skipping off
    left_out = ["tests/test_x.py", "plugins/build/x", "iam_evaluator/node_modules/x/y.js"]
    left_out += ["plugins/src/x/__pycache__/y.pyc", "plugins/src/x.egg-info/PKG-INFO", "README.md"]
    for path in left_out:
        assert container_test.ignored(PurePosixPath(path), patterns), path
    for path in ["server.py", "container/Containerfile", "plugins/src/x/y.py"]:
        assert not container_test.ignored(PurePosixPath(path), patterns), path
