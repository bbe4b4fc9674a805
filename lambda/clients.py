"""The one place boto3 clients are made, and the one place this function reads os.environ.

Endpoints are never set here: botocore itself honours AWS_ENDPOINT_URL and the service-specific
AWS_ENDPOINT_URL_<SERVICE> (e.g. AWS_ENDPOINT_URL_CODEPIPELINE) for every client it creates,
including those built from explicit credentials, which is what points us at LocalStack.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from errors import FailureType, PromotionFailure
from job import Credentials

if TYPE_CHECKING:  # the stubs are a dev dependency; the Lambda runtime has only boto3
    from mypy_boto3_codepipeline import CodePipelineClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sts import STSClient

ADDRESSING_STYLE_ENV = "AWS_S3_ADDRESSING_STYLE"
_ADDRESSING_STYLES = ("auto", "path", "virtual")

# Adaptive = standard retries (throttling and transient 5xx/connection errors, exponential backoff
# with jitter) plus client-side rate limiting, which matters for S3 SlowDown on a single key's
# prefix. Ten attempts: a failed promotion costs a pipeline re-run, a retry costs seconds.
_RETRIES = Config(retries={"mode": "adaptive", "total_max_attempts": 10})


class ClientFactory:
    def __init__(self, session: boto3.session.Session, *, addressing_style: str = "auto") -> None:
        self._session = session
        self._addressing_style = addressing_style
        self._codepipeline: CodePipelineClient | None = None
        self._sts: STSClient | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> ClientFactory:
        """Region and credentials come from the usual AWS variables (set by Lambda)."""
        return cls(
            boto3.session.Session(),
            addressing_style=environ.get(ADDRESSING_STYLE_ENV, "auto"),
        )

    def codepipeline(self) -> CodePipelineClient:
        # Plain boto3.client("codepipeline") semantics so AWS_ENDPOINT_URL_CODEPIPELINE applies.
        if self._codepipeline is None:
            self._codepipeline = self._session.client("codepipeline", config=_RETRIES)
        return self._codepipeline

    def assume_role(self, role_arn: str, session_name: str) -> Credentials:
        if self._sts is None:
            self._sts = self._session.client("sts", config=_RETRIES)
        issued = self._sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)[
            "Credentials"
        ]
        return Credentials(
            access_key_id=issued["AccessKeyId"],
            secret_access_key=issued["SecretAccessKey"],
            session_token=issued["SessionToken"],
        )

    def s3(self, *, region: str | None, credentials: Credentials | None) -> S3Client:
        """S3 in `region` (None: the function's own) as `credentials` (None: the function's)."""
        return self._session.client(
            "s3",
            region_name=region,
            config=self._s3_config(),
            aws_access_key_id=credentials.access_key_id if credentials else None,
            aws_secret_access_key=credentials.secret_access_key if credentials else None,
            aws_session_token=credentials.session_token if credentials else None,
        )

    def _s3_config(self) -> Config:
        # Checked here rather than at construction so a bad value reaches CodePipeline as a job
        # result: the factory must exist to report anything at all.
        if self._addressing_style not in _ADDRESSING_STYLES:
            raise PromotionFailure(
                FailureType.CONFIGURATION_ERROR,
                f"environment variable {ADDRESSING_STYLE_ENV}={self._addressing_style!r} is not "
                f"one of {', '.join(_ADDRESSING_STYLES)}: fix the function's environment",
            )
        s3: Any = {"addressing_style": self._addressing_style}  # validated above
        return _RETRIES.merge(Config(s3=s3))
