"""The one place boto3 clients are made, and the one place this function reads os.environ.

Endpoints are never set here: botocore itself honours AWS_ENDPOINT_URL and the service-specific
AWS_ENDPOINT_URL_<SERVICE> (e.g. AWS_ENDPOINT_URL_CODEPIPELINE) for every client it creates,
including those built from explicit credentials, which is what points us at LocalStack.

Every S3 and STS client a promotion uses runs a `before_attempt` hook ahead of each attempt, first
and retries alike, which raises deadline.Stop once the deadline guard's time has come: so the time
left, not the attempt count, bounds a run of retries.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
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

# Per attempt, and per blocking socket operation, not per request: connect_timeout also bounds each
# send of a request body (urllib3 keeps it on the socket until the request is out), read_timeout
# each wait for the response's next bytes. A transfer that keeps trickling is bounded only by the
# deadline guard.
# - 5 s to connect: TCP and TLS to S3 take well under a second even across regions; 5 s rides out
#   a lost SYN (retransmitted after 1 s, then 3 s).
# - 15 s of silence: S3 answers an 8 MiB part or PutObject within a second or two of receiving it,
#   starts streaming a GetObject at once, and keeps CompleteMultipartUpload's connection alive with
#   whitespace while it works, so 15 s of nothing is a stalled connection, and botocore retries it.
#   botocore's default, 60 s, would alone outlast invocation.SAFETY_MARGIN_S.
# Together, 5 + 15 + deadline.GUARD_S (10) <= invocation.SAFETY_MARGIN_S (30): the first attempt at
# a part started at the margin has answered or failed before the guard must report.
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 15.0
# Adaptive = standard retries (throttling and transient 5xx/connection errors, exponential backoff
# with jitter) plus client-side rate limiting, which matters for S3 SlowDown on a single key's
# prefix. Ten attempts: a failed promotion costs a pipeline re-run, a retry costs seconds. Ten
# attempts of 20 s plus backoff could outlast any invocation, which is why the promotion's clients
# also stop retrying at the guard's time (see before_attempt); CodePipeline's client does not, as
# reporting the job result is worth every second left.
_CONFIG = Config(
    connect_timeout=CONNECT_TIMEOUT_S,
    read_timeout=READ_TIMEOUT_S,
    retries={"mode": "adaptive", "total_max_attempts": 10},
)

# Called with the operation name ("PutObject") before each attempt; raises to stop.
BeforeAttempt = Callable[[str], None]


class ClientFactory:
    def __init__(self, session: boto3.session.Session, *, addressing_style: str = "auto") -> None:
        self._session = session
        self._addressing_style = addressing_style
        self._codepipeline: CodePipelineClient | None = None

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
            self._codepipeline = self._session.client("codepipeline", config=_CONFIG)
        return self._codepipeline

    def assume_role(
        self, role_arn: str, session_name: str, *, before_attempt: BeforeAttempt | None = None
    ) -> Credentials:
        # A client per call, not one per runtime: the hook belongs to this job's deadline.
        sts: STSClient = self._session.client("sts", config=_CONFIG)
        _gate(sts, before_attempt)
        issued = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
        return Credentials(
            access_key_id=issued["AccessKeyId"],
            secret_access_key=issued["SecretAccessKey"],
            session_token=issued["SessionToken"],
        )

    def s3(
        self,
        *,
        region: str | None,
        credentials: Credentials | None,
        before_attempt: BeforeAttempt | None = None,
    ) -> S3Client:
        """S3 in `region` (None: the function's own) as `credentials` (None: the function's)."""
        client: S3Client = self._session.client(
            "s3",
            region_name=region,
            config=self._s3_config(),
            aws_access_key_id=credentials.access_key_id if credentials else None,
            aws_secret_access_key=credentials.secret_access_key if credentials else None,
            aws_session_token=credentials.session_token if credentials else None,
        )
        _gate(client, before_attempt)
        return client

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
        return _CONFIG.merge(Config(s3=s3))


def _gate(client: Any, before_attempt: BeforeAttempt | None) -> None:
    if before_attempt is None:
        return

    def hook(event_name: str, **_: Any) -> None:
        before_attempt(event_name.rsplit(".", 1)[-1])  # "before-send.s3.PutObject"

    # First, ahead of botocore's own before-send handlers (the adaptive rate limiter may sleep
    # there). An exception raised here is not retried: it ends the call.
    client.meta.events.register_first("before-send", hook)
