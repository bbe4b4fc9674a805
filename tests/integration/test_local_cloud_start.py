"""How the local cloud starts: LocalStack routes requests with the service catalog its venv was
built with (emulator/service_catalog.py) instead of indexing every service spec again."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulator.server import FILESYSTEM_ROOT
from emulator.service_catalog import CATALOG_GLOB, STATIC_LIBS, catalog_files
from emulator.venv import ensure_environment
from tests.integration.conftest import SessionLocalCloud
from xrdeploy.aws_clients import local_cloud_client

pytestmark = pytest.mark.integration

# LocalStack's own cache directory under a run's FILESYSTEM_ROOT (config.Directories.for_host),
# where it writes the catalog it builds when it finds none in its static libraries.
RUNTIME_CACHE = Path("var") / "lib" / "localstack" / "cache"


def test_requests_are_routed_with_the_venvs_catalog_and_none_is_built(
    own_cloud: SessionLocalCloud,
) -> None:
    # GIVEN the session's own LocalStack, started from the venv with its catalog
    assert own_cloud.server is not None
    filesystem_root = own_cloud.server.state_dir / FILESYSTEM_ROOT
    [built] = catalog_files(ensure_environment())

    # WHEN it has routed requests to services it had not answered yet
    for service in ("sts", "codedeploy", "codepipeline"):
        client = local_cloud_client(
            service, endpoint=own_cloud.endpoint, account_id="000000000000", region="us-east-1"
        )
        if service == "sts":
            assert client.get_caller_identity()["Account"] == "000000000000"
        elif service == "codedeploy":
            assert "applications" in client.list_applications()
        else:
            assert "pipelines" in client.list_pipelines()

    # THEN the catalog it read is the venv's, and it built none of its own
    linked = filesystem_root / STATIC_LIBS / built.name
    assert linked.resolve() == built.resolve()
    assert list((filesystem_root / RUNTIME_CACHE).glob(CATALOG_GLOB)) == []
