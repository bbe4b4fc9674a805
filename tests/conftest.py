"""Shared test set-up: markers by folder, the synthesis cache, the xdist scheduler (longest scopes
first), a Terraform home (CLI config, plugin cache, init lock) per pytest-xdist worker, and one
botocore model loader per worker."""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import botocore.session
import pytest

from xrdeploy.terraform.command import (
    AWS_PROVIDER_ADDRESS,
    AWS_PROVIDER_VERSION,
    cached_provider_dir,
    find_provider_mirror,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIGS = Path(__file__).resolve().parent / "configs"


def _link_the_mirrors_provider(home: Path) -> None:
    """Put the filesystem mirror's AWS provider in `home`'s plugin cache as hard links: every
    worker's cache then holds the same 700 MB file, written once and in memory once (a copy per
    worker was 700 MB more to write, and every provider process of another worker mapped another
    file). Terraform checks the linked package against the lock file's hash as it would a copy.
    Where linking is not possible (no mirror, another filesystem, a file this user may not link),
    the worker's first init copies the provider as usual."""
    mirror = find_provider_mirror(os.environ.get("XRDEPLOY_PROVIDER_MIRROR"))
    target = cached_provider_dir(home)
    if mirror is None or target.exists():
        return
    staging = target.with_name(f"{target.name}.linking-{os.getpid()}")
    try:
        shutil.copytree(
            mirror / AWS_PROVIDER_ADDRESS / AWS_PROVIDER_VERSION, staging, copy_function=os.link
        )
        staging.rename(target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)


# Concurrent `terraform init`s race on one plugin cache ("installed provider plugins are not
# consistent"), and a lock across workers would serialize them: each worker gets its own cache.
# Set at import, so the cdktf CLI's and the CLI's subprocesses inherit it.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if _WORKER and "XRDEPLOY_TERRAFORM_HOME" not in os.environ:
    os.environ["XRDEPLOY_TERRAFORM_HOME"] = str(REPO_ROOT / ".xrdeploy" / f"terraform-{_WORKER}")
    _link_the_mirrors_provider(Path(os.environ["XRDEPLOY_TERRAFORM_HOME"]))

# botocore gives each session a loader of its own, which reads and decodes the service models
# (S3's, IAM's: megabytes of JSON) again; the tests create thousands of sessions (one per assumed
# role, account and region): tests/unit/lambda/test_promote.py spent 39.9 s of CPU with a loader
# per session, 14.9 s with this. One session's clients share its loader; here every session
# shares one per data path. The models are only read.
botocore.session.create_loader = functools.cache(botocore.session.create_loader)

_TIER_BY_FOLDER = {
    "unit": "unit",
    "synth": "synth",
    "terraform": "terraform",
    "security": "security",
    "integration": "integration",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test's tier is the folder it lives in, so no test can forget its marker."""
    for item in items:
        parts = Path(str(item.fspath)).relative_to(Path(__file__).parent).parts
        for part in parts[:-1]:
            if part in _TIER_BY_FOLDER:
                item.add_marker(getattr(pytest.mark, _TIER_BY_FOLDER[part]))


class Synthesized:
    """Synthesizes each (config, target) once per session: the provider import dominates."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._cache: dict[tuple[str, str], object] = {}

    def __call__(self, config_name: str = "default", target: str = "aws"):  # type: ignore[no-untyped-def]
        from xrdeploy.config.model import load_config
        from xrdeploy.config.target import parse_target
        from xrdeploy.terraform.synth import synthesize

        key = (config_name, target)
        if key not in self._cache:
            path = None if config_name == "default" else CONFIGS / f"{config_name}.yaml"
            outdir = (
                self._root
                / f"{config_name}-{target.replace('=', '-').replace(':', '_').replace('/', '_')}"
            )
            self._cache[key] = synthesize(load_config(path), parse_target(target), outdir)
        return self._cache[key]


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return Synthesized(tmp_path_factory.mktemp("synth"))


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One moto server for every plan of the session (tools/security_scan.py): plans read the
    default VPC and subnets, whose ids differ between servers, so plans compared with each other
    come from one."""
    from tools.checkov_env import ensure_venv
    from tools.security_scan import moto_server

    with moto_server(ensure_venv(), tmp_path_factory.mktemp("moto") / "moto.log") as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def default_chain_plans(
    synthesized: Synthesized, moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> list[Path]:
    """`terraform show -json` of a plan of each stack of the default chain (AWS target): Checkov
    scans them (tests/security), the HCL output's plans are compared with them (tests/terraform)."""
    from tools.security_scan import plan_stacks_against

    stacks = [("default", stack) for stack in synthesized("default", "aws").stacks]
    return plan_stacks_against(moto_endpoint, stacks, tmp_path_factory.mktemp("plans"))


# Groups of test files that share a session fixture too expensive to build twice (a deployed
# chain; the synthesized configs and the default chain's plans): pytest-xdist must hand each group
# to one worker as a whole. Its own `loadgroup` does not group on this pytest (checked: tests of
# one group split), so the file scope of `--dist loadfile` is widened to the group here, named by
# its first entry. The synth, Terraform and security tiers synthesize the same configs (about 1 s
# of CPU each, and 4 s to start the provider binding's jsii kernel in a worker): on one worker,
# once.
SHARED_FIXTURE_GROUPS = (
    ("tests/integration/chain/",),
    ("tests/integration/wave/",),
    ("tests/synth/", "tests/terraform/", "tests/security/"),
)

# The suite's wall time is its busiest worker's. xdist hands out scopes in order of their number
# of tests, which starts the few long ones (a deployed chain, the cdktf CLI's deploys) last, when
# nothing is left to run beside them. These go first, longest first (as measured by
# `--durations`; docs/benchmarks.md), then the rest in xdist's order fill the gaps.
LONGEST_FIRST = (
    "tests/integration/test_cdktf_cli.py",
    "tests/integration/chain/",
    "tests/integration/test_demo_as_normal_user.py",
    "tests/integration/wave/",
    "tests/synth/",  # with tests/terraform/ and tests/security/
    "tests/integration/test_cli_lifecycle.py",
    "tests/integration/test_local_git_chain.py",
    "tests/integration/test_local_codecommit_chain.py",
)


def _start_rank(scope: str) -> int:
    return LONGEST_FIRST.index(scope) if scope in LONGEST_FIRST else len(LONGEST_FIRST)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SharedFixtureScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            for group in SHARED_FIXTURE_GROUPS:
                if nodeid.startswith(group):
                    return group[0]
            return str(super()._split_scope(nodeid))

        def _assign_work_unit(self, node: object) -> None:
            # The base class hands out the queue's first scope. A worker is sent its next scope
            # while its last two tests are still to run (it needs the next test to run one): one
            # still busy with a long scope (a single test of minutes, often) gets the shortest
            # waiting, so no long scope waits behind another; an idle one, the longest waiting.
            busy_with_long = any(
                scope in LONGEST_FIRST and not all(done.values())
                for scope, done in self.assigned_work[node].items()
            )
            pick = max if busy_with_long else min
            chosen = pick(self.workqueue, key=_start_rank)
            self.workqueue.move_to_end(chosen, last=False)
            super()._assign_work_unit(node)

    return SharedFixtureScheduling(config, log)
