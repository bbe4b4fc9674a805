"""The CodePipeline job event, parsed once into immutable typed objects.

Never log the raw event: CodePipeline puts temporary credentials in data.artifactCredentials.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from errors import FailureType, MalformedEvent, PromotionFailure

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_ACCOUNT = re.compile(r"^\d{12}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(?P<account>\d{12}):role/[\w+=,.@/-]{1,512}$")
# Values end up in x-amz-meta-* headers: S3 only round-trips printable ASCII there, and all
# user metadata together must stay under 2 KB.
_METADATA_TEXT = re.compile(r"^[\x20-\x7e]{1,256}$")
_MAX_KEY_BYTES = 1024

_TOP_LEVEL = (
    "app",
    "source_stage",
    "execution_id",
    "source_version_id",
    "destination",
    "commit",
    "commit_from",
)
_DESTINATION_FIELDS = ("stage", "bucket", "key", "region", "account_id", "role_arn")
_COMMIT_FIELDS = ("id", "branch", "repository")
_COMMIT_FROM_FIELDS = ("bucket", "key")


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    # repr=False: a stray log of the job must not leak the secret parts.
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)


@dataclass(frozen=True)
class Destination:
    stage: str
    bucket: str
    key: str
    region: str
    account_id: str
    # Everything at the destination is done as this role, in account_id.
    role_arn: str

    @property
    def location(self) -> S3Location:
        return S3Location(self.bucket, self.key)


@dataclass(frozen=True)
class Commit:
    """The Git commit a build was made from, as the Git source action named it."""

    id: str
    branch: str
    repository: str


@dataclass(frozen=True)
class PromotionParams:
    app: str
    source_stage: str
    execution_id: str
    source_version_id: str
    destination: Destination
    # A Git-sourced stage names its commit (the Source action's variables); a stage after it
    # names the object whose metadata holds the commit (its version source_version_id).
    commit: Commit | None = None
    commit_from: S3Location | None = None


@dataclass(frozen=True)
class Job:
    id: str
    artifact: S3Location
    artifact_credentials: Credentials
    # The artifact store's KMS key: S3 decrypts transparently, we only name it in error messages.
    artifact_key_id: str | None
    continuation_token: str | None
    params: PromotionParams


def read_job_id(event: object) -> str:
    """The job id, or MalformedEvent when there is no job to report a result to."""
    job = event.get("CodePipeline.job") if isinstance(event, Mapping) else None
    job_id = job.get("id") if isinstance(job, Mapping) else None
    if not isinstance(job_id, str) or not job_id:
        raise MalformedEvent("event has no CodePipeline.job.id: not a CodePipeline job event")
    return job_id


def parse_job(event: Mapping[str, Any]) -> Job:
    """Typed job from a CodePipeline Invoke event; PromotionFailure names the first bad field."""
    job_id = read_job_id(event)
    data = _event_mapping(event["CodePipeline.job"], "data")
    return Job(
        id=job_id,
        artifact=_input_artifact(data),
        artifact_credentials=_credentials(data),
        artifact_key_id=_encryption_key_id(data),
        continuation_token=_continuation_token(data),
        params=parse_user_parameters(_user_parameters_text(data)),
    )


def parse_user_parameters(text: str) -> PromotionParams:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as error:
        raise _config(
            f"UserParameters is not valid JSON ({error.msg} at char {error.pos})"
        ) from error
    if not isinstance(doc, dict):
        raise _config("UserParameters must be a JSON object")
    _reject_unknown(doc, _TOP_LEVEL, "UserParameters")
    destination_doc = doc.get("destination")
    if not isinstance(destination_doc, dict):
        raise _config("UserParameters.destination is required and must be an object")
    return PromotionParams(
        app=_metadata_text(doc, "app", "UserParameters"),
        source_stage=_metadata_text(doc, "source_stage", "UserParameters"),
        execution_id=_metadata_text(doc, "execution_id", "UserParameters"),
        source_version_id=_metadata_text(doc, "source_version_id", "UserParameters"),
        destination=_destination(destination_doc),
        commit=_commit(doc.get("commit")),
        commit_from=_commit_from(doc.get("commit_from")),
    )


def _commit(doc: object) -> Commit | None:
    where = "UserParameters.commit"
    if doc is None:
        return None
    if not isinstance(doc, dict):
        raise _config(f"{where} must be an object with {', '.join(_COMMIT_FIELDS)}")
    _reject_unknown(doc, _COMMIT_FIELDS, where)
    return Commit(
        id=_metadata_text(doc, "id", where),
        branch=_metadata_text(doc, "branch", where),
        repository=_metadata_text(doc, "repository", where),
    )


def _commit_from(doc: object) -> S3Location | None:
    where = "UserParameters.commit_from"
    if doc is None:
        return None
    if not isinstance(doc, dict):
        raise _config(f"{where} must be an object with bucket and key")
    _reject_unknown(doc, _COMMIT_FROM_FIELDS, where)
    return S3Location(
        bucket=_checked(doc, "bucket", where, _BUCKET, "is not a valid S3 bucket name"),
        key=_required_text(doc, "key", where),
    )


def _destination(doc: dict[str, Any]) -> Destination:
    where = "UserParameters.destination"
    _reject_unknown(doc, _DESTINATION_FIELDS, where)
    bucket = _checked(doc, "bucket", where, _BUCKET, "is not a valid S3 bucket name")
    region = _checked(doc, "region", where, _REGION, "is not an AWS region name like us-east-1")
    account_id = _checked(doc, "account_id", where, _ACCOUNT, "must be a 12-digit account id")
    key = _required_text(doc, "key", where)
    if len(key.encode("utf-8")) > _MAX_KEY_BYTES:
        raise _config(f"{where}.key is longer than S3's {_MAX_KEY_BYTES}-byte limit")
    role_arn = _required_text(doc, "role_arn", where)
    match = _ROLE_ARN.match(role_arn)
    if match is None:
        raise _config(f"{where}.role_arn {role_arn!r} is not an IAM role ARN")
    if match["account"] != account_id:
        raise _config(
            f"{where}.role_arn is in account {match['account']} but "
            f"{where}.account_id is {account_id}: they must name the same account"
        )
    return Destination(
        stage=_metadata_text(doc, "stage", where),
        bucket=bucket,
        key=key,
        region=region,
        account_id=account_id,
        role_arn=role_arn,
    )


def _reject_unknown(doc: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(doc) - set(allowed))
    if unknown:
        raise _config(
            f"{where} has unknown field {unknown[0]!r}; allowed fields: {', '.join(allowed)}"
        )


def _required_text(doc: dict[str, Any], name: str, where: str) -> str:
    value = doc.get(name)
    if value is None:
        raise _config(f"{where}.{name} is required")
    if not isinstance(value, str) or not value:
        raise _config(f"{where}.{name} must be a non-empty string")
    if "#{" in value:
        # CodePipeline leaves a variable unresolved when its namespace is not set on the action
        # that produces it.
        raise _config(
            f"{where}.{name} is the unresolved variable {value!r}: "
            "check the variable namespace of the action that produces it"
        )
    return value


def _checked(
    doc: dict[str, Any], name: str, where: str, pattern: re.Pattern[str], problem: str
) -> str:
    value = _required_text(doc, name, where)
    if not pattern.match(value):
        raise _config(f"{where}.{name} {value!r} {problem}")
    return value


def _metadata_text(doc: dict[str, Any], name: str, where: str) -> str:
    value = _required_text(doc, name, where)
    if not _METADATA_TEXT.match(value):
        raise _config(
            f"{where}.{name} must be 1-256 printable ASCII characters (it becomes S3 metadata)"
        )
    return value


def _user_parameters_text(data: Mapping[str, Any]) -> str:
    action = data.get("actionConfiguration")
    configuration = action.get("configuration") if isinstance(action, Mapping) else None
    text = configuration.get("UserParameters") if isinstance(configuration, Mapping) else None
    if not isinstance(text, str) or not text.strip():
        raise _config(
            "UserParameters is missing: set the promote action's UserParameters to the "
            "promotion JSON (app, source_stage, execution_id, source_version_id, destination)"
        )
    return text


def _input_artifact(data: Mapping[str, Any]) -> S3Location:
    artifacts = data.get("inputArtifacts")
    if not isinstance(artifacts, list) or len(artifacts) != 1:
        count = len(artifacts) if isinstance(artifacts, list) else 0
        raise _config(
            f"the promote action has {count} input artifacts, expected exactly 1: "
            "set the source stage's output artifact as its only input"
        )
    location = artifacts[0].get("location") if isinstance(artifacts[0], Mapping) else None
    s3 = location.get("s3Location") if isinstance(location, Mapping) else None
    if (
        not isinstance(location, Mapping)
        or location.get("type") != "S3"
        or not isinstance(s3, Mapping)
    ):
        raise _malformed("data.inputArtifacts[0].location is not an S3 location")
    return S3Location(
        bucket=_event_text(s3, "bucketName", "data.inputArtifacts[0].location.s3Location"),
        key=_event_text(s3, "objectKey", "data.inputArtifacts[0].location.s3Location"),
    )


def _credentials(data: Mapping[str, Any]) -> Credentials:
    doc = _event_mapping(data, "artifactCredentials", "data")
    where = "data.artifactCredentials"
    return Credentials(
        access_key_id=_event_text(doc, "accessKeyId", where),
        secret_access_key=_event_text(doc, "secretAccessKey", where),
        session_token=_event_text(doc, "sessionToken", where),
    )


def _encryption_key_id(data: Mapping[str, Any]) -> str | None:
    key = data.get("encryptionKey")
    if key is None:
        return None
    return _event_text(key, "id", "data.encryptionKey") if isinstance(key, Mapping) else None


def _continuation_token(data: Mapping[str, Any]) -> str | None:
    token = data.get("continuationToken")
    if token is None or token == "":
        return None
    if not isinstance(token, str):
        raise _malformed("data.continuationToken is not a string")
    return token


def _event_mapping(doc: Mapping[str, Any], name: str, where: str = "") -> Mapping[str, Any]:
    value = doc.get(name)
    if not isinstance(value, Mapping):
        raise _malformed(f"{where + '.' if where else ''}{name} is missing")
    return value


def _event_text(doc: Mapping[str, Any], name: str, where: str = "") -> str:
    value = doc.get(name)
    if not isinstance(value, str) or not value:
        raise _malformed(f"{where + '.' if where else ''}{name} is missing")
    return value


def _config(message: str) -> PromotionFailure:
    return PromotionFailure(FailureType.CONFIGURATION_ERROR, message)


def _malformed(problem: str) -> PromotionFailure:
    return PromotionFailure(
        FailureType.JOB_FAILED,
        f"malformed CodePipeline event: {problem}; this function only handles Invoke jobs",
    )
