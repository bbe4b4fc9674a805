"""The promotion ledger over recorded API shapes (ListPipelineExecutions, GetPipelineExecution,
ListActionExecutions, GetPipelineState, HeadObject as AWS answers them): what is live where, where
it came from, what is in flight, which gates hold it, and which stages run a build that never
passed their upstream."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import CONFIGS
from xrdeploy.config.model import load_config, parse_config
from xrdeploy.console.commits import ConnectionState
from xrdeploy.console.pipeline_view import ledger_json, ledger_lines
from xrdeploy.console.pipelines import ActionRun, StagePipeline
from xrdeploy.console.provenance import StageLedger, read_ledger
from xrdeploy.console.source_objects import source_object

CHAIN = load_config(None)  # alpha → beta (manual approval) → prod
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
GOOD = hashlib.sha256(b"the tested build").hexdigest()
ROGUE = hashlib.sha256(b"a build nobody tested").hexdigest()


def summary(execution_id: str, version: str, status: str = "Succeeded") -> dict[str, Any]:
    """A ListPipelineExecutions summary of an S3-sourced V2 pipeline."""
    return {
        "pipelineExecutionId": execution_id,
        "status": status,
        "startTime": T0,
        "lastUpdateTime": T0,
        "sourceRevisions": [
            {
                "actionName": "Source",
                "revisionId": version,
                "revisionSummary": f"Amazon S3 version id: {version}",
            }
        ],
        "trigger": {"triggerType": "CloudWatchEvent", "triggerDetail": "arn:aws:events:..."},
        "executionMode": "SUPERSEDED",
        "executionType": "STANDARD",
    }


def execution(execution_id: str, version: str) -> dict[str, Any]:
    """GetPipelineExecution's pipelineExecution."""
    return {
        "pipelineExecutionId": execution_id,
        "status": "Succeeded",
        "artifactRevisions": [{"name": "SourceArtifact", "revisionId": version, "created": T0}],
        "executionType": "STANDARD",
    }


def deploy(status: str = "Succeeded", deployment: str = "d-ABCDEF123") -> list[ActionRun]:
    return [
        ActionRun("Source", "Source", "Succeeded", "", T0),
        ActionRun("Deploy", "Deploy", status, "", T0, external_id=deployment),
    ]


def promoted(sha256: str, stage: str, version: str, by: str) -> dict[str, Any]:
    """HeadObject of an object the copy function wrote (x-amz-meta-* and S3's checksum)."""
    return {
        "VersionId": "",
        "ChecksumSHA256": base64.b64encode(bytes.fromhex(sha256)).decode(),
        "Metadata": {
            "xrdeploy-app": "xrdeploy-demo",
            "xrdeploy-source-stage": stage,
            "xrdeploy-execution-id": by,
            "xrdeploy-source-version-id": version,
            "xrdeploy-sha256": sha256,
        },
    }


def uploaded() -> dict[str, Any]:
    """HeadObject of an object put by hand with boto3's defaults: a CRC32, no metadata."""
    return {"VersionId": "", "ChecksumCRC32": "AAAAAA==", "Metadata": {}}


@dataclass
class FakeReads:
    """Recorded answers per stage; missing ones answer as AWS does for a fresh pipeline."""

    live: dict[str, dict[str, Any]] = field(default_factory=dict)
    listed: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    executions_by_id: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    runs: dict[tuple[str, str], list[ActionRun]] = field(default_factory=dict)
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    heads: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    bodies: dict[tuple[str, str], bytes] = field(default_factory=dict)
    hashed: list[tuple[str, str]] = field(default_factory=list)
    connections: dict[str, ConnectionState] = field(default_factory=dict)

    def live_execution(self, pipeline: StagePipeline) -> dict[str, Any] | None:
        return self.live.get(pipeline.stage)

    def executions(self, pipeline: StagePipeline, limit: int = 10) -> list[dict[str, Any]]:
        return self.listed.get(pipeline.stage, [])[:limit]

    def execution_or_none(self, pipeline: StagePipeline, execution_id: str) -> Any:
        return self.executions_by_id.get((pipeline.stage, execution_id))

    def action_runs(self, pipeline: StagePipeline, execution_id: str) -> list[ActionRun]:
        return self.runs.get((pipeline.stage, execution_id), [])

    def state(self, pipeline: StagePipeline) -> dict[str, Any]:
        return self.states.get(pipeline.stage, {"stageStates": []})

    def source_head(self, pipeline: StagePipeline, version_id: str) -> Any:
        head = self.heads.get((pipeline.stage, version_id))
        return None if head is None else {**head, "VersionId": version_id}

    def source_sha256(self, pipeline: StagePipeline, version_id: str) -> str:
        self.hashed.append((pipeline.stage, version_id))
        return hashlib.sha256(self.bodies[(pipeline.stage, version_id)]).hexdigest()

    def connection_state(self, pipeline: StagePipeline) -> ConnectionState | None:
        return self.connections.get(pipeline.stage)

    def ran(self, stage: str, execution_id: str, version: str, head: dict[str, Any]) -> None:
        """`stage` deployed `version` (with `head`) in `execution_id`, its newest success."""
        self.live[stage] = summary(execution_id, version)
        self.listed.setdefault(stage, []).insert(0, summary(execution_id, version))
        self.executions_by_id[(stage, execution_id)] = execution(execution_id, version)
        self.runs[(stage, execution_id)] = deploy()
        self.heads[(stage, version)] = head


def promoted_chain() -> FakeReads:
    """GOOD uploaded into alpha by hand, promoted to beta, then to prod."""
    reads = FakeReads()
    reads.ran("alpha", "e-alpha", "va", uploaded())
    reads.bodies[("alpha", "va")] = b"the tested build"
    reads.ran("beta", "e-beta", "vb", promoted(GOOD, "alpha", "va", "e-alpha"))
    reads.ran("prod", "e-prod", "vp", promoted(GOOD, "beta", "vb", "e-beta"))
    return reads


def by_stage(reads: FakeReads) -> dict[str, StageLedger]:
    return {ledger.pipeline.stage: ledger for ledger in read_ledger(reads, CHAIN)}


def test_a_promoted_build_descends_stage_by_stage_with_its_origin() -> None:
    # GIVEN a build that went through the chain; WHEN the ledger is read
    reads = promoted_chain()
    ledgers = by_stage(reads)
    # THEN every stage runs the same bytes, each version deployed by its own execution
    assert {s: (e.live.version_id, e.live.sha256) for s, e in ledgers.items() if e.live} == {
        "alpha": ("va", GOOD),
        "beta": ("vb", GOOD),
        "prod": ("vp", GOOD),
    }
    prod = ledgers["prod"].live
    assert prod is not None
    assert (prod.source_stage, prod.source_version_id, prod.promoted_by_execution) == (
        "beta",
        "vb",
        "e-beta",
    )
    assert (prod.execution_id, prod.deployment_id, prod.deployed_at) == (
        "e-prod",
        "d-ABCDEF123",
        T0,
    )
    # ... alpha is where builds enter; beta and prod descend from their upstream's
    assert ledgers["alpha"].verdict.descends is None
    assert ledgers["beta"].verdict.descends is True
    assert ledgers["prod"].verdict.descends is True
    assert ledgers["prod"].verdict.reason == "promoted from beta version vb by execution e-beta"
    # ... and alpha's build, which carries no checksum, was hashed once for both uses
    assert reads.hashed == [("alpha", "va")]


def test_a_build_put_straight_into_prods_bucket_is_flagged() -> None:
    reads = promoted_chain()
    reads.ran("prod", "e-prod-2", "vp2", uploaded())
    reads.bodies[("prod", "vp2")] = b"a build nobody tested"
    prod = by_stage(reads)["prod"]
    assert prod.live is not None and prod.live.sha256 == ROGUE
    assert prod.verdict.descends is False
    assert prod.verdict.reason == "no promotion metadata: uploaded directly, never passed beta"


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        pytest.param(
            lambda r: r.heads.update({("prod", "vp"): promoted(ROGUE, "beta", "vb", "e-beta")}),
            f"SHA-256 {ROGUE[:12]} is not what beta deployed ({GOOD[:12]})",
            id="bytes-beta-never-deployed",
        ),
        pytest.param(
            lambda r: r.heads.update({("prod", "vp"): promoted(GOOD, "alpha", "va", "e-alpha")}),
            "promoted from alpha, but its upstream is beta",
            id="skipped-a-stage",
        ),
        pytest.param(
            lambda r: r.executions_by_id.pop(("beta", "e-beta")),
            "beta has no execution e-beta",
            id="execution-never-ran",
        ),
        pytest.param(
            lambda r: r.executions_by_id.update({("beta", "e-beta"): execution("e-beta", "vx")}),
            "beta's execution e-beta ran vx, not version vb",
            id="execution-ran-another-version",
        ),
        pytest.param(
            lambda r: r.runs.update({("beta", "e-beta"): deploy("Failed")}),
            "beta's execution e-beta did not pass Deploy (Failed)",
            id="upstream-deploy-failed",
        ),
        pytest.param(
            lambda r: r.heads.pop(("beta", "vb")),
            "beta's bucket has no version vb",
            id="upstream-version-gone",
        ),
        pytest.param(
            lambda r: r.heads[("prod", "vp")].update(
                ChecksumSHA256=base64.b64encode(bytes.fromhex(ROGUE)).decode()
            ),
            "its xrdeploy-sha256 metadata disagrees with S3's own checksum",
            id="metadata-disagrees-with-s3",
        ),
    ],
)
def test_metadata_that_the_upstream_does_not_bear_out_is_flagged(tamper: Any, reason: str) -> None:
    reads = promoted_chain()
    tamper(reads)
    prod = by_stage(reads)["prod"]
    assert (prod.verdict.descends, prod.verdict.reason) == (False, reason)


def test_nothing_deployed_and_an_expired_version_are_not_judged() -> None:
    reads = promoted_chain()
    del reads.live["prod"]
    reads.heads.pop(("beta", "vb"))
    ledgers = by_stage(reads)
    assert (ledgers["prod"].live, ledgers["prod"].verdict.reason) == (None, "nothing deployed yet")
    beta = ledgers["beta"]
    assert beta.live is not None and beta.live.sha256 == ""
    assert (beta.verdict.descends, beta.verdict.reason) == (
        None,
        "version vb is no longer in the bucket",
    )


def test_source_object_takes_s3s_whole_object_checksum_but_not_a_multipart_one() -> None:
    whole = source_object({"VersionId": "v", "ChecksumSHA256": _b64(GOOD)})
    assert (whole.sha256, whole.promoted) == (GOOD, False)
    parts = source_object({"VersionId": "v", "ChecksumSHA256": _b64(GOOD) + "-3"})
    assert parts.sha256 == ""
    # x-amz-meta-* keys come back lowercased from S3; the local cloud's case is kept as sent
    mixed = source_object({"Metadata": {"Xrdeploy-Sha256": GOOD, "Xrdeploy-Source-Stage": "a"}})
    assert (mixed.sha256, mixed.promoted) == (GOOD, True)


def _b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


APPROVAL_WAITING_STATE: dict[str, Any] = {
    "pipelineName": "xrdeploy-demo-beta-pipeline",
    "stageStates": [
        {
            "stageName": "Source",
            "latestExecution": {"pipelineExecutionId": "e-2", "status": "Succeeded"},
            "actionStates": [{"actionName": "Source", "currentRevision": {"revisionId": "vb2"}}],
        },
        {
            "stageName": "Deploy",
            "inboundExecution": {"pipelineExecutionId": "e-3", "status": "InProgress"},
            "inboundExecutions": [{"pipelineExecutionId": "e-3", "status": "InProgress"}],
            "latestExecution": {"pipelineExecutionId": "e-2", "status": "Succeeded"},
            "actionStates": [{"actionName": "Deploy"}],
            "beforeEntryConditionState": {
                "latestExecution": {"status": "InProgress", "summary": "outside the window"},
                "conditionStates": [
                    {
                        "latestExecution": {"status": "InProgress", "lastStatusChange": T0},
                        "ruleStates": [
                            {
                                "ruleName": "window",
                                "latestExecution": {"status": "InProgress"},
                            }
                        ],
                    }
                ],
            },
        },
        {
            "stageName": "Approve",
            "latestExecution": {"pipelineExecutionId": "e-2", "status": "InProgress"},
            "actionStates": [
                {
                    "actionName": "Approve",
                    "latestExecution": {
                        "status": "InProgress",
                        "token": "tok-1",
                        "lastStatusChange": T0,
                        "summary": "Promote to prod?",
                    },
                }
            ],
            "onSuccessConditionState": {
                "latestExecution": {"status": "Succeeded"},
                "conditionStates": [],
            },
        },
    ],
}


def test_executions_in_flight_and_the_gates_that_hold_them() -> None:
    # GIVEN e-2 waiting at beta's approval and e-3 held by beta's Deploy entry condition
    reads = promoted_chain()
    reads.states["beta"] = APPROVAL_WAITING_STATE
    reads.listed["beta"] = [
        summary("e-3", "vb3", "InProgress"),
        summary("e-2", "vb2", "InProgress"),
        summary("e-1", "vb", "Succeeded"),
    ]
    beta = by_stage(reads)["beta"]
    # THEN both are in flight, where they are
    assert [(f.execution_id, f.version_id, f.at) for f in beta.in_flight] == [
        ("e-3", "vb3", "waiting for Deploy"),
        ("e-2", "vb2", "Approve"),
    ]
    # ... held by the condition being evaluated and the approval waiting; a finished
    # condition holds nothing
    assert [(g.kind, g.stage_name, g.name, g.execution_id) for g in beta.gates] == [
        ("before_entry", "Deploy", "window=InProgress", "e-3"),
        ("manual_approval", "Approve", "Approve", "e-2"),
    ]


def test_the_json_and_text_forms_carry_the_verdict() -> None:
    reads = promoted_chain()
    reads.ran("prod", "e-prod-2", "vp2", uploaded())
    reads.bodies[("prod", "vp2")] = b"a build nobody tested"
    ledgers = read_ledger(reads, CHAIN)
    document = json.loads(json.dumps(ledger_json("xrdeploy-demo", ledgers)))
    prod = document["stages"][2]
    assert prod["live"] == {
        "version_id": "vp2",
        "sha256": ROGUE,
        "source_stage": None,
        "source_version_id": None,
        "promoted_by_execution": None,
        "execution_id": "e-prod-2",
        "execution_type": "STANDARD",
        "deployment_id": "d-ABCDEF123",
        "deployed_at": "2026-12-01T10:00:00+00:00",
        "commit": None,
    }
    assert prod["connection"] is None
    assert (prod["upstream"], prod["descends"], prod["flagged"]) == ("beta", False, True)
    assert document["stages"][1]["descends"] is True
    text = ledger_lines(ledgers[2])
    assert text[0].startswith(f"  live: version vp2 sha256 {ROGUE[:12]} not promoted;")
    assert text[1] == (
        "  provenance: FLAGGED — no promotion metadata: uploaded directly, never passed beta"
    )


def test_each_stage_follows_the_one_before_it_unless_it_names_another() -> None:
    assert [getattr(CHAIN.upstream_of(s.name), "name", None) for s in CHAIN.stages] == [
        None,
        "alpha",
        "beta",
    ]
    wave = load_config(CONFIGS / "wave.yaml")
    assert {s.name: getattr(wave.upstream_of(s.name), "name", None) for s in wave.stages} == {
        "alpha": None,
        "beta": "alpha",
        "prod-us-east-1": "beta",
        "prod-eu-west-1": "beta",
        "prod-ap-southeast-2": "beta",
    }


def test_every_stage_of_a_wave_is_judged_against_the_stage_it_follows() -> None:
    # GIVEN beta promoting to two production regions at once, one of them also fed by hand
    wave = parse_config(
        {
            "app": {"name": "shop"},
            "stages": [
                _stage("alpha", "us-west-2"),
                _stage("beta", "us-east-1"),
                _stage("prod-us", "us-east-2"),
                {**_stage("prod-eu", "eu-west-1"), "after": "beta"},
            ],
        },
        "wave.yaml",
    )
    reads = promoted_chain()
    reads.ran("prod-us", "e-us", "vu", promoted(GOOD, "beta", "vb", "e-beta"))
    reads.ran("prod-eu", "e-eu", "ve", uploaded())
    reads.bodies[("prod-eu", "ve")] = b"a build nobody tested"
    ledgers = {ledger.pipeline.stage: ledger for ledger in read_ledger(reads, wave)}
    # THEN both name beta as upstream; the promoted one descends, the other is flagged
    assert (ledgers["prod-us"].upstream, ledgers["prod-us"].verdict.descends) == ("beta", True)
    assert (ledgers["prod-eu"].upstream, ledgers["prod-eu"].verdict.descends) == ("beta", False)


def _stage(name: str, region: str) -> dict[str, Any]:
    fleet = {"tag_value": name.title(), "http_ingress_cidr": "10.0.0.0/8"}
    return {"name": name, "account_id": "111111111111", "region": region, "fleet": fleet}


def test_an_aws_error_while_reading_is_one_line() -> None:
    from botocore.exceptions import ClientError

    from xrdeploy.cli.pipelines import aws_errors
    from xrdeploy.errors import ToolError

    missing = {"Error": {"Code": "PipelineNotFoundException", "Message": "no pipeline x"}}
    with pytest.raises(ToolError) as raised, aws_errors():
        raise ClientError(missing, "GetPipelineState")
    assert raised.value.problems == ["GetPipelineState: PipelineNotFoundException: no pipeline x"]
