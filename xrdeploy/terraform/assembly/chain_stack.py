"""A Terraform stack holding one or more stages, with its providers and its state backend."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cdktf import LocalBackend, S3Backend, TerraformStack
from constructs import Construct

from xrdeploy.config.model import ChainConfig, Stage
from xrdeploy.config.naming import Naming
from xrdeploy.config.target import DeployTarget
from xrdeploy.terraform.assembly.providers import ProviderTarget, make_providers, provider_alias
from xrdeploy.terraform.assembly.stage import StageDeployment, StageDeploymentConfig

MANAGED_BY = "xrdeploy"


@dataclass(frozen=True)
class ChainStackConfig:
    chain: ChainConfig
    stages: tuple[Stage, ...]
    target: DeployTarget
    function_package: Path


class ChainStack(TerraformStack):
    def __init__(self, scope: Construct, id_: str, *, config: ChainStackConfig) -> None:
        super().__init__(scope, id_)
        chain = config.chain
        self._backend(id_, chain, config.target)
        role = chain.app.deploy_role_name
        providers = make_providers(
            self,
            targets=[
                ProviderTarget(
                    account_id=stage.account_id,
                    region=stage.region,
                    deploy_role_arn=Naming(chain.app.name).role_arn(stage, role) if role else None,
                )
                for stage in config.stages
            ],
            deploy_target=config.target,
            default_tags={"App": chain.app.name, "ManagedBy": MANAGED_BY},
        )
        self.stage_deployments = [
            StageDeployment(
                self,
                stage.name,  # a stable key: the construct id becomes part of every address
                provider=providers[(stage.account_id, stage.region)],
                config=StageDeploymentConfig(
                    chain=chain, stage=stage, function_package=config.function_package
                ),
            )
            for stage in config.stages
        ]
        self.provider_aliases = sorted(provider_alias(*key) for key in providers)

    def _backend(self, stack_id: str, chain: ChainConfig, target: DeployTarget) -> None:
        backend = chain.backend
        if backend.type == "local":
            # Terraform runs in <outdir>/stacks/<stack>/: keep state beside the outdir, where a
            # fresh synth (which may clear the outdir) cannot touch it.
            LocalBackend(self, path=f"../../../terraform.{stack_id}.tfstate")
            return
        assert backend.bucket is not None and backend.region is not None  # validated in config
        # State lives in the first stage's account; the emulator needs its credentials for it.
        S3Backend(
            self,
            bucket=backend.bucket,
            region=backend.region,
            key=f"{backend.key_prefix}/{stack_id}.tfstate",
            encrypt=True,
            **target.s3_backend_settings(chain.stages[0].account_id),
        )
        # cdktf 0.21's S3Backend predates Terraform 1.10's native S3 locking.
        self.add_override("terraform.backend.s3.use_lockfile", backend.use_lockfile)
