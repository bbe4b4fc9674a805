"""Integration tier: one LocalStack per test session, real Lambda execution, and reusable
fixtures for deploying a chain into it.

Fixtures (session scope unless noted):

- ``local_emulator``: LocalStack started by the harness (``emulator/``; the first run builds its
  venv in ``.localstack/``), plus the endpoint that receives the copy functions' CodePipeline job
  results. Uses ``$LOCALSTACK_ENDPOINT`` when one answers; that LocalStack must have been started
  by ``emulator.launcher`` with ``XRDEPLOY_LAMBDA_ENDPOINT_OVERRIDES`` pointing at this session's
  job-result endpoint, so in practice let the harness start it.
- ``localstack_endpoint``: its URL. ``lambda_endpoint_overrides``: what functions get instead of
  LocalStack for paid-only services.
- ``deploy_chain(config_path_or_None)`` (function factory): synthesizes a chain for the emulator
  with its state in an S3 bucket inside LocalStack, applies every stage, and destroys it when the
  session ends (unless the test destroyed it already).

Adding a test for your own chain takes a few lines:

    def test_my_chain_promotes(deploy_chain, tmp_path):
        deployment = deploy_chain(Path("my-chain.yaml"))
        upload_build(deployment, build_zip(Path("my_app"), tmp_path / "app.zip"))
        runs, hops = promote_through_chain(deployment)
        assert all(hop.outcome == "success" for hop in hops)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from xrdeploy.config import load_config
from xrdeploy.local_chain import LocalDeployment, LocalEmulator, local_emulator, with_emulator_state


def _progress(message: str) -> None:
    # Shown with `pytest -s`; long set-up steps say what they are doing.
    print(f"[harness] {message}", flush=True)  # noqa: T201


@pytest.fixture(scope="session")
def local_emulator_session() -> Iterator[LocalEmulator]:
    with local_emulator(_progress) as emulator:
        yield emulator


@pytest.fixture(scope="session")
def localstack_endpoint(local_emulator_session: LocalEmulator) -> str:
    return local_emulator_session.endpoint


@pytest.fixture(scope="session")
def lambda_endpoint_overrides(local_emulator_session: LocalEmulator) -> dict[str, str]:
    return {"codepipeline": local_emulator_session.job_results.url}


@pytest.fixture(scope="session")
def deploy_chain(
    local_emulator_session: LocalEmulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[Path | None], LocalDeployment]]:
    deployments: list[LocalDeployment] = []

    def deploy(config: Path | None = None) -> LocalDeployment:
        chain = with_emulator_state(load_config(config))
        workdir = tmp_path_factory.mktemp(f"chain-{chain.app.name}")
        deployment = LocalDeployment(chain, local_emulator_session, workdir, progress=_progress)
        deployments.append(deployment)
        deployment.synthesize()
        # All stages at once saves minutes (chain order: tests/unit/test_chain_runner.py).
        deployment.deploy(concurrently=True)
        return deployment

    try:
        yield deploy
    finally:
        for deployment in reversed(deployments):
            if not deployment.destroyed:
                deployment.destroy()
