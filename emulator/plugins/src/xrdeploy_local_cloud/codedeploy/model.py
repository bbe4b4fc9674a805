"""What CodeDeploy keeps per account and region: applications, groups, configs, deployments.

Plain data: :class:`RegionState` is held by the LocalStack store (:mod:`.store`) and handed to
the handlers and the engine, so both are unit tested without a running LocalStack.
"""

from __future__ import annotations

import dataclasses
import datetime
import secrets
import string
import threading
import uuid
from typing import Any

from xrdeploy_local_cloud.codedeploy import configs
from xrdeploy_local_cloud.kit.errors import ServiceError

# Instance in-place lifecycle without a load balancer, in the order the service sends them;
# BlockTraffic and AllowTraffic are the service's own steps, skipped without a load balancer.
LIFECYCLE_EVENTS = (
    "BeforeBlockTraffic",
    "BlockTraffic",
    "AfterBlockTraffic",
    "ApplicationStop",
    "DownloadBundle",
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "ApplicationStart",
    "ValidateService",
    "BeforeAllowTraffic",
    "AllowTraffic",
    "AfterAllowTraffic",
)
TRAFFIC_EVENTS = ("BlockTraffic", "AllowTraffic")
FINAL_STATUSES = ("Succeeded", "Failed", "Stopped")
_ID_ALPHABET = string.ascii_uppercase + string.digits


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def new_deployment_id() -> str:
    return "d-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(9))


@dataclasses.dataclass
class Application:
    name: str
    compute_platform: str
    application_id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    create_time: datetime.datetime = dataclasses.field(default_factory=now)
    # revision key (see revision_key) → {"revision", "registerTime", "firstUsedTime", ...}
    revisions: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class DeploymentGroup:
    application_name: str
    name: str
    settings: dict[str, Any]  # the request's fields, as CreateDeploymentGroup names them
    group_id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    compute_platform: str = "Server"
    last_successful: str | None = None  # deployment ids
    last_attempted: str | None = None


@dataclasses.dataclass
class LifecycleEventRecord:
    name: str
    status: str = "Pending"
    start_time: datetime.datetime | None = None
    end_time: datetime.datetime | None = None
    diagnostics: dict[str, str] | None = None

    def view(self) -> dict[str, Any]:
        view: dict[str, Any] = {"lifecycleEventName": self.name, "status": self.status}
        if self.start_time:
            view["startTime"] = self.start_time
        if self.end_time:
            view["endTime"] = self.end_time
        if self.diagnostics:
            view["diagnostics"] = self.diagnostics
        return view


@dataclasses.dataclass
class InstanceRecord:
    instance_id: str
    arn: str
    instance_type: str
    status: str = "Pending"
    last_updated: datetime.datetime = dataclasses.field(default_factory=now)
    events: list[LifecycleEventRecord] = dataclasses.field(
        default_factory=lambda: [LifecycleEventRecord(name) for name in LIFECYCLE_EVENTS]
    )

    def set_status(self, status: str) -> None:
        self.status = status
        self.last_updated = now()

    def skip_rest(self) -> None:
        for event in self.events:
            if event.status == "Pending":
                event.status = "Skipped"

    def first_failure(self) -> LifecycleEventRecord | None:
        return next((event for event in self.events if event.status == "Failed"), None)


@dataclasses.dataclass
class Deployment:
    deployment_id: str
    application_name: str
    group_name: str
    group_id: str
    config_name: str
    revision: dict[str, Any]
    creator: str = "user"
    description: str | None = None
    ignore_application_stop_failures: bool = False
    auto_rollback: dict[str, Any] | None = None  # the group's, or the request's override
    file_exists_behavior: str = "DISALLOW"
    previous_revision: dict[str, Any] | None = None
    status: str = "Created"
    create_time: datetime.datetime = dataclasses.field(default_factory=now)
    start_time: datetime.datetime | None = None
    complete_time: datetime.datetime | None = None
    error: dict[str, str] | None = None
    rollback_info: dict[str, str] | None = None
    instances: dict[str, InstanceRecord] = dataclasses.field(default_factory=dict)
    lock: threading.RLock = dataclasses.field(default_factory=threading.RLock, repr=False)
    stop_requested: threading.Event = dataclasses.field(default_factory=threading.Event, repr=False)
    finished: threading.Event = dataclasses.field(default_factory=threading.Event, repr=False)
    stop_rollback: bool = False  # StopDeployment's autoRollbackEnabled
    stop_error: dict[str, str] | None = None  # why it was asked to stop

    def overview(self) -> dict[str, int]:
        counts = dict.fromkeys(("Pending", "InProgress", "Succeeded", "Failed", "Skipped"), 0)
        counts["Ready"] = 0
        for record in self.instances.values():
            counts[record.status] = counts.get(record.status, 0) + 1
        return counts

    def rollback_events(self) -> list[str]:
        rollback = self.auto_rollback or {}
        return list(rollback.get("events") or []) if rollback.get("enabled") else []

    def finish(self, status: str, error: dict[str, str] | None = None) -> None:
        with self.lock:
            self.status = status
            self.error = error
            self.complete_time = now()
        self.finished.set()


@dataclasses.dataclass
class OnPremisesInstance:
    """A registered (or deregistered) on-premises instance; its name is its deployment target id."""

    name: str
    arn: str
    iam_user_arn: str | None = None
    iam_session_arn: str | None = None
    register_time: datetime.datetime = dataclasses.field(default_factory=now)
    deregister_time: datetime.datetime | None = None
    tags: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def registered(self) -> bool:
        return self.deregister_time is None


@dataclasses.dataclass
class RegionState:
    """Everything CodeDeploy holds in one account and region."""

    account_id: str = ""
    region: str = ""
    applications: dict[str, Application] = dataclasses.field(default_factory=dict)
    groups: dict[tuple[str, str], DeploymentGroup] = dataclasses.field(default_factory=dict)
    custom_configs: dict[str, configs.DeploymentConfig] = dataclasses.field(default_factory=dict)
    deployments: dict[str, Deployment] = dataclasses.field(default_factory=dict)
    tags: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)  # by ARN
    on_premises: dict[str, OnPremisesInstance] = dataclasses.field(default_factory=dict)
    lock: threading.RLock = dataclasses.field(default_factory=threading.RLock, repr=False)

    def arn(self, resource: str) -> str:
        return f"arn:aws:codedeploy:{self.region}:{self.account_id}:{resource}"

    def application(self, name: str | None) -> Application:
        if not name:
            raise ServiceError(
                "ApplicationNameRequiredException", "The application name must be specified."
            )
        try:
            return self.applications[name]
        except KeyError:
            raise ServiceError(
                "ApplicationDoesNotExistException", f"No application found for name: {name}"
            ) from None

    def group(self, application_name: str | None, name: str | None) -> DeploymentGroup:
        self.application(application_name)
        if not name:
            raise ServiceError(
                "DeploymentGroupNameRequiredException",
                "The deployment group name must be specified.",
            )
        try:
            return self.groups[(str(application_name), name)]
        except KeyError:
            raise ServiceError(
                "DeploymentGroupDoesNotExistException",
                f"No Deployment Group found for name: {name}",
            ) from None

    def config(self, name: str | None) -> configs.DeploymentConfig:
        if not name:
            raise ServiceError(
                "DeploymentConfigNameRequiredException",
                "The deployment configuration name must be specified.",
            )
        found = configs.BUILT_IN.get(name) or self.custom_configs.get(name)
        if found is None:
            raise ServiceError(
                "DeploymentConfigDoesNotExistException",
                f"The deployment configuration {name} could not be found.",
            )
        return found

    def deployment(self, deployment_id: str | None) -> Deployment:
        if not deployment_id:
            raise ServiceError(
                "DeploymentIdRequiredException", "The deployment ID must be specified."
            )
        try:
            return self.deployments[deployment_id]
        except KeyError:
            raise ServiceError(
                "DeploymentDoesNotExistException",
                f"The deployment {deployment_id} could not be found.",
            ) from None


def revision_key(revision: dict[str, Any]) -> str:
    """Identity of a revision, as AWS compares them (location, not description)."""
    s3 = revision.get("s3Location") or {}
    if s3:
        return "s3:" + "|".join(
            str(s3.get(k) or "") for k in ("bucket", "key", "bundleType", "version", "eTag")
        )
    return f"{revision.get('revisionType')}:{sorted(revision.items())!r}"
