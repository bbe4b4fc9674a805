"""The whole chain on a laptop: LocalStack, the stacks applied into it, a build promoted through
every stage by the deployed copy functions. Used by `main.py demo` and the integration tests."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xrdeploy.config import Backend, ChainConfig
from xrdeploy.errors import ToolError
from xrdeploy.pipeline_emulator import JobResultEndpoint, PipelineEmulator, StageRun
from xrdeploy.stacks import ChainRunner
from xrdeploy.synth import Synthesis, synthesize
from xrdeploy.target import DeployTarget

Progress = Callable[[str], None]
STATE_KEY_PREFIX = "xrdeploy"


def _quiet(_: str) -> None:
    return None


@dataclass(frozen=True)
class LocalEmulator:
    endpoint: str
    job_results: JobResultEndpoint
    log_path: Path | None


@contextmanager
def local_emulator(progress: Progress = _quiet) -> Iterator[LocalEmulator]:
    """LocalStack with our local-process Lambda executor, and the endpoint that receives the copy
    functions' job results. Uses a running LocalStack if LOCALSTACK_ENDPOINT points at one."""
    from emulator.launcher import (
        EmulatorError,
        LocalStackServer,
        ensure_environment,
        existing_endpoint,
    )

    with JobResultEndpoint() as job_results:
        running = existing_endpoint()
        if running:
            progress(f"using the LocalStack at {running}")
            yield LocalEmulator(running, job_results, None)
            return
        progress("preparing LocalStack (the first run installs it into .localstack/)")
        try:
            venv = ensure_environment(progress)
            server = LocalStackServer(
                venv,
                extra_env={"XRDEPLOY_LAMBDA_ENDPOINT_OVERRIDES": f"codepipeline={job_results.url}"},
            )
            progress("starting LocalStack")
            server.start()
        except EmulatorError as exc:
            raise ToolError(f"LocalStack: {exc}") from exc
        try:
            progress(f"LocalStack is up at {server.endpoint} (log: {server.log_path})")
            yield LocalEmulator(server.endpoint, job_results, server.log_path)
        finally:
            server.stop()


def state_bucket_name(chain: ChainConfig) -> str:
    first = chain.stages[0]
    return f"{chain.app.name.replace('.', '-')}-tfstate-{first.account_id}"[:63]


def with_emulator_state(chain: ChainConfig) -> ChainConfig:
    """The chain with its Terraform state in an S3 bucket inside the emulator, locked by
    Terraform's S3 lockfile, as a team would keep it on AWS."""
    backend = Backend(
        type="s3",
        bucket=state_bucket_name(chain),
        region=chain.stages[0].region,
        key_prefix=STATE_KEY_PREFIX,
        use_lockfile=True,
    )
    return chain.model_copy(update={"backend": backend})


@dataclass
class LocalDeployment:
    """The chain synthesized for the emulator and applied into it."""

    chain: ChainConfig
    emulator: LocalEmulator
    workdir: Path
    progress: Progress = _quiet
    synthesis: Synthesis | None = None
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    destroyed: bool = False

    @property
    def target(self) -> DeployTarget:
        return DeployTarget(emulator_url=self.emulator.endpoint)

    def pipeline(self) -> PipelineEmulator:
        return PipelineEmulator(
            self.emulator.endpoint, self.emulator.job_results, log=self.progress
        )

    def runner(self) -> ChainRunner:
        if self.synthesis is None:
            self.synthesize()
        assert self.synthesis is not None
        return ChainRunner(self.synthesis, progress=self.progress)

    def synthesize(self) -> Synthesis:
        self.progress(f"synthesizing {len(self.chain.stages)} stage(s) for {self.target.name}")
        self.synthesis = synthesize(self.chain, self.target, self.workdir / "cdktf.out")
        omitted = sorted({t for s in self.synthesis.stacks for t in s.omitted_resource_types})
        if omitted:
            self.progress("left out (not in the free emulator): " + ", ".join(omitted))
        return self.synthesis

    def ensure_state_bucket(self) -> None:
        backend = self.chain.backend
        assert backend.bucket is not None and backend.region is not None
        first = self.chain.stages[0]
        s3 = self.pipeline().client("s3", first.account_id, backend.region)
        existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        if backend.bucket not in existing:
            create: dict[str, Any] = {"Bucket": backend.bucket}
            if backend.region != "us-east-1":
                create["CreateBucketConfiguration"] = {"LocationConstraint": backend.region}
            s3.create_bucket(**create)
            s3.put_bucket_versioning(
                Bucket=backend.bucket, VersioningConfiguration={"Status": "Enabled"}
            )

    def deploy(self, *, concurrently: bool = False) -> dict[str, dict[str, Any]]:
        """Apply every stage; `concurrently` only here, in the emulator, which does not check
        that trusted principals exist (see ChainRunner.deploy)."""
        self.ensure_state_bucket()
        runner = self.runner()
        for stack_outputs in runner.deploy(concurrently=concurrently).values():
            for name, value in stack_outputs.items():
                if name.startswith("stage_"):
                    self.outputs[value["stage"]] = value
        missing = [s.name for s in self.chain.stages if s.name not in self.outputs]
        if missing:
            raise ToolError(f"stacks applied but gave no outputs for {', '.join(missing)}")
        return self.outputs

    def destroy(self) -> None:
        self.runner().destroy()
        self.destroyed = True

    def stage_outputs(self) -> list[dict[str, Any]]:
        return [self.outputs[s.name] for s in self.chain.stages]


@dataclass(frozen=True)
class Hop:
    source_stage: str
    destination_stage: str
    bucket: str
    key: str
    version_id: str
    sha256: str
    seconds: float
    outcome: str
    message: str


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def upload_build(deployment: LocalDeployment, build: Path) -> str:
    """Put the build into the first stage's source bucket; returns its version id."""
    first = deployment.stage_outputs()[0]
    s3 = deployment.pipeline().client("s3", first["account_id"], first["region"])
    body = build.read_bytes()
    digest = hashlib.sha256(body).digest()
    response = s3.put_object(
        Bucket=first["source_bucket"],
        Key=first["source_key"],
        Body=body,
        ChecksumSHA256=base64.b64encode(digest).decode(),
        Metadata={"xrdeploy-sha256": digest.hex()},
    )
    return str(response["VersionId"])


def promote_through_chain(deployment: LocalDeployment) -> tuple[list[StageRun], list[Hop]]:
    """Run every stage's pipeline in order, as each stage's source change would start it."""
    emulator = deployment.pipeline()
    stages = deployment.stage_outputs()
    runs: list[StageRun] = []
    hops: list[Hop] = []
    for index, outputs in enumerate(stages):
        started = time.monotonic()
        run = emulator.run(outputs)
        runs.append(run)
        if index + 1 == len(stages):
            break
        downstream = stages[index + 1]
        result = run.job_result
        version_id, checksum = "", ""
        if run.promoted:
            s3 = emulator.client("s3", downstream["account_id"], downstream["region"])
            head = s3.head_object(Bucket=downstream["source_bucket"], Key=downstream["source_key"])
            version_id = head["VersionId"]
            checksum = head.get("Metadata", {}).get("xrdeploy-sha256", "")
        hops.append(
            Hop(
                source_stage=outputs["stage"],
                destination_stage=downstream["stage"],
                bucket=downstream["source_bucket"],
                key=downstream["source_key"],
                version_id=version_id,
                sha256=checksum,
                seconds=time.monotonic() - started,
                outcome=result.outcome if result else "no result",
                message=(result.summary or result.message or "") if result else "",
            )
        )
        if not run.promoted:
            break
    return runs, hops
