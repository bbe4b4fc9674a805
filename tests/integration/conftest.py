"""Integration tier: the local cloud (LocalStack with our plugins, no Docker) for the session, and
fixtures that deploy a chain into it and destroy it afterwards.

Fixtures (session scope):

- ``localstack_endpoint``: URL of the local cloud. A running one is used when
  ``$LOCALSTACK_ENDPOINT`` or ``python -m emulator up`` provides it; otherwise the harness starts
  one (the first run builds its venv in ``.localstack/``) and stops it at the end.
- ``own_cloud``: a local cloud this session started, for tests that change its run-time settings
  (enforcement, CodePipeline's waits: ``/_xrdeploy/settings``) or read its files: the session's
  own, or, when the session uses a running one, one started for them (a user's local cloud keeps
  its settings). ``cloud_settings(**changes)`` changes them for a module, which resets them at
  its end. One LocalStack per session thus serves tests that only need different switches.
- ``deploy_chain(config_path_or_None)``: synthesizes a chain for the local cloud with its state
  in an S3 bucket inside it and applies every stack at once (`deploy --all-at-once`), once per
  config and session. With ``in_reverse_order=True`` it applies them one stack at a time instead,
  from the last stage to the first (reverse topology order), each from scratch. Destroying is
  part of what stopping the session's own local cloud discards; in a local cloud the session did
  not start, every deployment is destroyed at the end. Destroy itself is tested on its own
  (`test_cli_lifecycle.py`: deploy, re-plan, destroy, nothing left).
- ``default_chain``: the embedded three-stage chain, shared by the tests of
  tests/integration/chain/, created against the chain order (``in_reverse_order``): the proof that
  no stack needs another to exist first, on the stacks the other chain tests then run builds on.

A test for your own chain takes a few lines:

    def test_my_chain_promotes(deploy_chain, tmp_path):
        deployment = deploy_chain(Path("my-chain.yaml"))
        follower = ChainFollower(stage_pipelines(deployment.chain), deployment.clients, ...)
        known = follower.known_executions()
        upload_build(deployment, build_zip(Path("my_app"), tmp_path / "app.zip"))
        results, hops = follower.follow(known)
        assert [r.status for r in results] == ["Succeeded"] * len(results)
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest

from emulator.launcher import (
    LocalStackServer,
    change_settings,
    ensure_environment,
    existing_endpoint,
    reset_settings,
)
from xrdeploy.config.model import load_config
from xrdeploy.rehearsal.local_chain import LocalDeployment, with_emulator_state

BAKE_SCALE = "0.25"
# Stage conditions wait a quarter of their declared time in the session's own local cloud
# (a local-cloud setting only: the generated Terraform keeps the declared bake).
SESSION_SETTINGS = {"XRDEPLOY_CODEPIPELINE_WAIT_SCALE": BAKE_SCALE}


def _progress(message: str) -> None:
    # Shown with `pytest -s`; long set-up steps say what they are doing.
    print(f"[harness] {message}", flush=True)  # noqa: T201


@dataclass(frozen=True)
class SessionLocalCloud:
    endpoint: str
    # Started by this session: stopping it discards everything in it, so deployments need no
    # destroy at the end. A user's running local cloud keeps what they had: we destroy ours.
    owned: bool
    # The LocalStack this session started (its state directory and log); None for a running one.
    server: LocalStackServer | None = None


def _started_cloud() -> Iterator[SessionLocalCloud]:
    with LocalStackServer(ensure_environment(_progress), extra_env=SESSION_SETTINGS) as server:
        _progress(f"local cloud up at {server.endpoint} (log: {server.log_path})")
        yield SessionLocalCloud(server.endpoint, owned=True, server=server)


@pytest.fixture(scope="session")
def local_cloud() -> Iterator[SessionLocalCloud]:
    running = existing_endpoint()
    if running:
        _progress(f"using the local cloud at {running}")
        yield SessionLocalCloud(running, owned=False)
        return
    yield from _started_cloud()


@pytest.fixture(scope="session")
def own_cloud(local_cloud: SessionLocalCloud) -> Iterator[SessionLocalCloud]:
    if local_cloud.owned:
        yield local_cloud
        return
    yield from _started_cloud()


@pytest.fixture(scope="module")
def cloud_settings(own_cloud: SessionLocalCloud) -> Iterator[Callable[..., object]]:
    # Module scope: the tests of one file run one after another on one xdist worker (--dist
    # loadfile), so a setting changed here meets no other file's tests.
    yield partial(change_settings, own_cloud.endpoint)
    reset_settings(own_cloud.endpoint)


@pytest.fixture(scope="session")
def localstack_endpoint(local_cloud: SessionLocalCloud) -> str:
    return local_cloud.endpoint


@pytest.fixture(scope="session")
def deploy_chain(
    local_cloud: SessionLocalCloud, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., LocalDeployment]]:
    deployments: dict[Path | None, LocalDeployment] = {}

    def deploy(config: Path | None = None, *, in_reverse_order: bool = False) -> LocalDeployment:
        if config in deployments and not deployments[config].destroyed:
            return deployments[config]
        chain = with_emulator_state(load_config(config))
        workdir = tmp_path_factory.mktemp(f"chain-{chain.app.name}")
        deployment = LocalDeployment(chain, local_cloud.endpoint, workdir, progress=_progress)
        deployments[config] = deployment
        synthesis = deployment.synthesize()
        if in_reverse_order:
            # Against the chain order, each stack alone (the shared default chain). Chain order
            # is tested by the CLI and cdktf tests.
            deployment.deploy_one_at_a_time([stack.name for stack in reversed(synthesis.stacks)])
        else:
            # Every stack at once: each apply's minute is mostly the AWS provider's wait on the
            # S3 lifecycle configuration, and the waits overlap.
            deployment.deploy(concurrently=True)
        return deployment

    try:
        yield deploy
    finally:
        if not local_cloud.owned:
            for deployment in reversed(list(deployments.values())):
                if not deployment.destroyed:
                    deployment.destroy()


@pytest.fixture(scope="session")
def default_chain(deploy_chain: Callable[..., LocalDeployment]) -> LocalDeployment:
    # One deployment of the default chain per session serves the order proof and every test of
    # tests/integration/chain/ (a second, created all at once, would cost a chain's applies).
    return deploy_chain(None, in_reverse_order=True)


def _as_root() -> bool:
    return os.geteuid() == 0


@pytest.fixture
def unprivileged_user() -> Iterator[str | None]:
    """A new user with subordinate ids (as root), or None: this process is already one."""
    if not _as_root():
        yield None
        return
    name = f"xrd{uuid.uuid4().hex[:8]}"
    # useradd gives a new user a range in /etc/subuid and /etc/subgid (login.defs SUB_UID_*).
    subprocess.run(["useradd", "--create-home", "--shell", "/bin/bash", name], check=True)
    try:
        yield name
    finally:
        subprocess.run(["userdel", "--remove", name], check=False, capture_output=True)
