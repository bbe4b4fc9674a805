"""The wave chain deployed once per session, with what its config expects to exist: the alarm
beta-errors that gates beta's bake, and the SQS queue xrdeploy-notices every stage's topic
delivers to (local_wave.yaml says both are the test's to create)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from emulator.launcher import clear_faults
from tests.conftest import CONFIGS, REPO_ROOT
from tests.integration.chain_runs import quiesce
from xrdeploy.config.model import ChainConfig, load_config
from xrdeploy.config.naming import Naming
from xrdeploy.packaging import build_zip
from xrdeploy.rehearsal.local_chain import LocalDeployment

CONFIG = CONFIGS / "local_wave.yaml"
ALARM = "beta-errors"
ALARM_PLACE = ("111111111111", "us-east-1")
QUEUE = "xrdeploy-notices"
QUEUE_PLACE = ("111111111111", "us-east-1")


def topic_arns(chain: ChainConfig) -> list[str]:
    """Every stage's notification topic, named as the generator names it (`<prefix>-notices`)."""
    names = Naming(chain.app.name)
    return [
        f"arn:aws:sns:{s.region}:{s.account_id}:{names.prefix(s)}-notices" for s in chain.stages
    ]


def create_alarm(clients: Any) -> None:
    """beta-errors on a metric nothing writes, put in OK: the bake passes unless a test fires it.
    A one-hour period keeps CloudWatch from re-evaluating it during the session."""
    cloudwatch = clients.client("cloudwatch", *ALARM_PLACE)
    cloudwatch.put_metric_alarm(
        AlarmName=ALARM,
        Namespace="xrwave/beta",
        MetricName="Errors",
        Statistic="Sum",
        Period=3600,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
    )
    set_alarm(clients, "OK")


def set_alarm(clients: Any, state: str) -> None:
    clients.client("cloudwatch", *ALARM_PLACE).set_alarm_state(
        AlarmName=ALARM, StateValue=state, StateReason=f"set to {state} by the test"
    )


def create_queue(clients: Any, chain: ChainConfig) -> str:
    """The queue, with a policy admitting SNS deliveries from the stages' topics only (three
    accounts: the topics of the other accounts are named by ARN)."""
    sqs = clients.client("sqs", *QUEUE_PLACE)
    url = str(sqs.create_queue(QueueName=QUEUE)["QueueUrl"])
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "StageTopicsDeliver",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arns(chain)}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    return url


@pytest.fixture(scope="session")
def wave_chain(local_cloud: Any, deploy_chain: Callable[..., LocalDeployment]) -> LocalDeployment:
    from xrdeploy.aws_clients import AwsClients
    from xrdeploy.config.target import DeployTarget

    clients = AwsClients(DeployTarget(emulator_url=local_cloud.endpoint))
    create_alarm(clients)
    create_queue(clients, load_config(CONFIG))
    return deploy_chain(CONFIG)


@pytest.fixture
def wave(wave_chain: LocalDeployment) -> Iterator[LocalDeployment]:
    """The wave chain with quiet pipelines, its alarm OK and no faults, before and after."""
    quiesce(wave_chain)
    set_alarm(wave_chain.clients, "OK")
    clear_faults(wave_chain.endpoint)
    yield wave_chain
    set_alarm(wave_chain.clients, "OK")
    clear_faults(wave_chain.endpoint)


BuildMaker = Callable[..., Path]


def sample_build(workdir: Path, version: str, *, without_settings_for: str | None = None) -> Path:
    """The sample app with its own VERSION. `without_settings_for` a region: the build ships a
    settings file for every region of the wave but that one, and its ValidateService checks the
    file of the region it runs in, so it fails there and only there (a release missing one
    region's configuration)."""
    source = workdir / f"app-{version}"
    shutil.copytree(REPO_ROOT / "sample_app", source)
    (source / "VERSION").write_text(version + "\n")
    if without_settings_for is not None:
        regions = {s.region for s in load_config(CONFIG).stages} - {without_settings_for}
        settings = source / "site" / "regions"
        settings.mkdir()
        for region in sorted(regions):
            (settings / f"{region}.conf").write_text(f"region={region}\n")
        _check_region_settings(source / "scripts" / "validate_service.sh")
    return build_zip(source, workdir / f"app-{version}.zip")


def _check_region_settings(script: Path) -> None:
    # The page render_page.sh wrote names the instance's region (from its metadata).
    check = (
        "root=/var/www/xrdeploy-sample\n"
        "region=$(sed -n 's|.*<strong id=\"region\">\\([^<]*\\)</strong>.*|\\1|p' "
        '"$root/index.html")\n'
        'if [ ! -f "$root/regions/$region.conf" ]; then\n'
        '  echo "this build has no settings for $region" >&2\n'
        "  exit 1\n"
        "fi\n"
    )
    text = script.read_text()
    script.write_text(text.replace("set -euo pipefail\n", "set -euo pipefail\n" + check, 1))


@pytest.fixture
def make_build(tmp_path: Path) -> BuildMaker:
    def make(version: str, **options: Any) -> Path:
        return sample_build(tmp_path, version, **options)

    return make
