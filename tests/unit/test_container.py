"""The compose file and `make container-test` run the local cloud's image the same way, and the
image's files exist where the compose file says (`make container-test` runs the image itself)."""

from __future__ import annotations

import os
import re
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
