"""The chain deployed into a local cloud: synthesized for its endpoint, with Terraform state in an
S3 bucket inside it (locked by Terraform's S3 lockfile, as a team would keep it on AWS), applied
and destroyed through the project's Terraform runner. Used by `main.py demo` and the tests."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from xrdeploy.aws_clients import AwsClients
from xrdeploy.config.model import Backend, ChainConfig
from xrdeploy.config.target import DeployTarget
from xrdeploy.errors import ToolError
from xrdeploy.terraform.runner import ChainRunner, ProgressReporter
from xrdeploy.terraform.synth import Synthesis, synthesize

STATE_KEY_PREFIX = "xrdeploy"


def _quiet(_: str) -> None:
    return None


def state_bucket_name(chain: ChainConfig) -> str:
    first = chain.stages[0]
    return f"{chain.app.name.replace('.', '-')}-tfstate-{first.account_id}"[:63]


def with_emulator_state(chain: ChainConfig) -> ChainConfig:
    """The chain with its Terraform state in an S3 bucket of the local cloud."""
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
    """The chain synthesized for the local cloud at `endpoint` and applied into it."""

    chain: ChainConfig
    endpoint: str
    workdir: Path
    progress: ProgressReporter = _quiet
    synthesis: Synthesis | None = None
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The stacks `deploy_one_at_a_time` applied, in the order it applied them.
    applied: list[str] = field(default_factory=list)
    destroyed: bool = False

    @property
    def target(self) -> DeployTarget:
        return DeployTarget(emulator_url=self.endpoint)

    @cached_property
    def clients(self) -> AwsClients:
        return AwsClients(self.target)

    def client(self, service: str, account_id: str, region: str) -> Any:
        return self.clients.client(service, account_id, region)

    def runner(self) -> ChainRunner:
        if self.synthesis is None:
            self.synthesize()
        assert self.synthesis is not None
        return ChainRunner(self.synthesis, progress=self.progress)

    def synthesize(self) -> Synthesis:
        self.progress(f"synthesizing {len(self.chain.stages)} stage(s) for {self.target.name}")
        self.synthesis = synthesize(self.chain, self.target, self.workdir / "cdktf.out")
        return self.synthesis

    def ensure_state_bucket(self) -> None:
        backend = self.chain.backend
        assert backend.bucket is not None and backend.region is not None
        s3 = self.client("s3", self.chain.stages[0].account_id, backend.region)
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
        """Apply every stage, in chain order or `concurrently` (see ChainRunner.deploy)."""
        self.ensure_state_bucket()
        self._keep_outputs(self.runner().deploy(concurrently=concurrently))
        return self._all_outputs()

    def deploy_one_at_a_time(self, stacks: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Apply the named stacks alone, one after the other, in the order given: any order works,
        since no stack needs another's resources to exist first."""
        self.ensure_state_bucket()
        runner = self.runner()
        for stack in stacks:
            self._keep_outputs(runner.deploy([stack]))
            self.applied.append(stack)
        return self._all_outputs()

    def _keep_outputs(self, by_stack: dict[str, dict[str, Any]]) -> None:
        for stack_outputs in by_stack.values():
            for name, value in stack_outputs.items():
                if name.startswith("stage_"):
                    self.outputs[value["stage"]] = value

    def _all_outputs(self) -> dict[str, dict[str, Any]]:
        missing = [s.name for s in self.chain.stages if s.name not in self.outputs]
        if missing:
            raise ToolError(f"stacks applied but gave no outputs for {', '.join(missing)}")
        return self.outputs

    def destroy(self, *, concurrently: bool = False) -> None:
        self.runner().destroy(all_at_once=concurrently)
        self.destroyed = True

    def stage_outputs(self) -> list[dict[str, Any]]:
        return [self.outputs[s.name] for s in self.chain.stages]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def upload_build(deployment: LocalDeployment, build: Path) -> str:
    """Put the build into the first stage's source bucket; returns its version id. That upload
    is all it takes: S3 → EventBridge starts the first pipeline, and each promotion the next."""
    first = deployment.stage_outputs()[0]
    s3 = deployment.client("s3", first["account_id"], first["region"])
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
