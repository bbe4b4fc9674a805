"""The copy function: CodePipeline's Promote action, delivering the build to the next stage."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cdktf import AssetType, Fn, TerraformAsset
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.lambda_function import LambdaFunction
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from modules.policy import Statement, assume_role_statement
from modules.role import Role, RoleConfig

HANDLER = "handler.lambda_handler"
RUNTIME = "python3.12"
# Long enough for a few hundred MB per call; larger builds continue through CodePipeline's
# continuation token, so the timeout bounds one call, not the copy.
TIMEOUT_SECONDS = 300
MEMORY_MB = 512
# Promotions are rare and serial per pipeline; a cap keeps a runaway retry from eating the
# account's concurrency.
RESERVED_CONCURRENCY = 5
LOG_RETENTION_DAYS = 365


@dataclass(frozen=True)
class CopyFunctionConfig:
    function_name: str
    role_name: str
    log_group_name: str
    log_group_arn: str
    package: Path  # a zip built by xrdeploy.packaging
    kms_key_arn: str
    # The downstream promotion roles this function may assume (several for a wave). A stage
    # that promotes nowhere has no copy function.
    downstream_role_arns: tuple[str, ...]
    # In a chain whose first stage reads Git, later stages carry the commit on: the function
    # reads the commit metadata of the version it promotes from this object (HeadObject).
    commit_source_object_arn: str | None = None


def execution_role_permissions(config: CopyFunctionConfig) -> tuple[Statement, ...]:
    return _base_permissions(config) + _commit_permissions(config)


def _commit_permissions(config: CopyFunctionConfig) -> tuple[Statement, ...]:
    if config.commit_source_object_arn is None:
        return ()
    # HeadObject of a given version is s3:GetObjectVersion; it reads no data, so no KMS grant.
    return (
        Statement(
            sid="ReadCommitMetadata",
            actions=("s3:GetObjectVersion",),
            resources=(config.commit_source_object_arn,),
        ),
    )


def _base_permissions(config: CopyFunctionConfig) -> tuple[Statement, ...]:
    return (
        Statement(
            sid="WriteOwnLogs",
            actions=("logs:CreateLogStream", "logs:PutLogEvents"),
            resources=(f"{config.log_group_arn}:*",),
        ),
        # PutJob*Result act on a job id, not a resource: AWS offers nothing narrower than "*".
        Statement(
            sid="ReportJobResult",
            actions=("codepipeline:PutJobSuccessResult", "codepipeline:PutJobFailureResult"),
            resources=("*",),
        ),
        Statement(
            sid="AssumeDownstreamPromotionRole",
            actions=("sts:AssumeRole",),
            resources=config.downstream_role_arns,
        ),
    )


class CopyFunction(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, provider: AwsProvider, config: CopyFunctionConfig
    ) -> None:
        super().__init__(scope, id_)
        self.role = Role(
            self,
            "role",
            provider=provider,
            config=RoleConfig(
                name=config.role_name,
                description=f"Execution role of {config.function_name}",
                trust=(assume_role_statement("Service", ("lambda.amazonaws.com",)),),
                permissions=execution_role_permissions(config),
            ),
        )
        log_group = CloudwatchLogGroup(
            self,
            "logs",
            provider=provider,
            name=config.log_group_name,
            retention_in_days=LOG_RETENTION_DAYS,
            kms_key_id=config.kms_key_arn,
        )
        asset = TerraformAsset(self, "package", path=str(config.package), type=AssetType.FILE)
        self.function = LambdaFunction(
            self,
            "function",
            provider=provider,
            function_name=config.function_name,
            role=self.role.arn,
            runtime=RUNTIME,
            handler=HANDLER,
            filename=asset.path,
            source_code_hash=Fn.filebase64sha256(asset.path),
            timeout=TIMEOUT_SECONDS,
            memory_size=MEMORY_MB,
            reserved_concurrent_executions=RESERVED_CONCURRENCY,
            depends_on=[log_group],
        )
        self.arn = self.function.arn
