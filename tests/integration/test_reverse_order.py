"""No stack needs another to exist first: the default chain's stacks created from scratch against
the chain order, each alone (prod, then beta, then alpha), still carry one upload to prod.

The local cloud refuses a trust policy naming a role that does not exist yet, as IAM does, so this
passes only because each promotion role trusts its upstream account, pinned to the upstream copy
function's role by an `aws:PrincipalArn` condition, not by naming the role.

The chain is the default one under an app name of its own, in the session's local cloud. The shared
chain of tests/integration/chain/ is created all at once: three applies one after another take
minutes, most of it the AWS provider's fixed wait on each S3 lifecycle configuration, and here
they overlap other files' tests instead of holding up the shared chain's.
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO_ROOT
from tests.integration.chain_runs import pipeline_of, s3_of
from xrdeploy.console.chain_run import ChainFollower
from xrdeploy.console.pipelines import PipelineConsole, stage_pipelines
from xrdeploy.packaging import build_zip
from xrdeploy.rehearsal.local_chain import LocalDeployment, upload_build

pytestmark = pytest.mark.integration

APP_NAME = "xrdeploy-reverse"


@pytest.fixture(scope="module")
def reversed_chain(
    deploy_chain: Callable[..., LocalDeployment], tmp_path_factory: pytest.TempPathFactory
) -> LocalDeployment:
    chain = yaml.safe_load((REPO_ROOT / "xrdeploy" / "default_config.yaml").read_text())
    chain["app"]["name"] = APP_NAME
    config = tmp_path_factory.mktemp("reverse-order") / "chain.yaml"
    config.write_text(yaml.safe_dump(chain, sort_keys=False))
    return deploy_chain(config, in_reverse_order=True)


def test_stacks_created_last_stage_first_carry_a_build_to_prod(
    reversed_chain: LocalDeployment, tmp_path: Path
) -> None:
    # GIVEN the stacks applied one at a time, each from scratch, downstream before upstream ...
    assert reversed_chain.applied == ["prod", "beta", "alpha"]
    # ... in a local cloud that refuses a trust policy naming a role that does not exist yet
    # (tests/integration/test_trust_principals.py)
    guards = f"{reversed_chain.endpoint}/_xrdeploy/guards"
    with urllib.request.urlopen(guards, timeout=10) as response:
        assert json.loads(response.read())["enforce_trust"] is True
    # WHEN a build is uploaded to alpha's source bucket, beta's approval answered
    build = build_zip(REPO_ROOT / "sample_app", tmp_path / "app.zip")
    console = PipelineConsole(reversed_chain.clients)
    follower = ChainFollower(
        stage_pipelines(reversed_chain.chain),
        reversed_chain.clients,
        on_action=lambda *_: None,
        on_approval=lambda pipeline, _: console.answer_approval(
            pipeline_of(reversed_chain, pipeline.stage), approve=True, comment="approved"
        ),
    )
    known = follower.known_executions()
    upload_build(reversed_chain, build)
    results, hops = follower.follow(known)
    # THEN every stage deployed it, and each promotion wrote the same bytes downstream
    assert [(r.stage, r.status) for r in results] == [
        ("alpha", "Succeeded"),
        ("beta", "Succeeded"),
        ("prod", "Succeeded"),
    ]
    assert [(h.source_stage, h.destination_stage) for h in hops] == [
        ("alpha", "beta"),
        ("beta", "prod"),
    ]
    last = hops[-1]
    body = (
        s3_of(reversed_chain, "prod")
        .get_object(Bucket=last.bucket, Key=last.key, VersionId=last.version_id)["Body"]
        .read()
    )
    assert hashlib.sha256(body).digest() == hashlib.sha256(build.read_bytes()).digest()
