"""State of the local CodePipeline: pipelines, their executions and the jobs of Lambda actions.

The statuses of an execution and of its runs change only through :mod:`.execution_states`, which
also holds the lock every other change to this state is made under.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from xrdeploy_local_cloud.codepipeline.execution_states import (
    ActionStatus,
    ConditionStatus,
    PipelineStatus,
    StageStatus,
)

# Stage condition kinds (OverrideStageCondition's conditionType spelling) and execution types.
BEFORE_ENTRY = "BEFORE_ENTRY"
ON_SUCCESS = "ON_SUCCESS"
ON_FAILURE = "ON_FAILURE"
STANDARD = "STANDARD"
ROLLBACK = "ROLLBACK"


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclasses.dataclass
class ActionRun:
    """One execution of one action (what ListActionExecutions and GetPipelineState show)."""

    action_execution_id: str
    execution_id: str
    stage: str
    declaration: dict[str, Any]
    resolved_configuration: dict[str, str]
    input_artifacts: list[dict[str, Any]]
    status: ActionStatus = ActionStatus.IN_PROGRESS
    started: datetime.datetime = dataclasses.field(default_factory=now)
    updated: datetime.datetime = dataclasses.field(default_factory=now)
    summary: str | None = None
    external_id: str | None = None
    external_url: str | None = None
    error: dict[str, str] | None = None
    token: str | None = None  # a Manual approval's, while it waits
    approval: dict[str, str] | None = None  # PutApprovalResult's result, once answered
    percent: int | None = None
    updated_by: str | None = None
    output_artifacts: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    output_variables: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.declaration["name"])


@dataclasses.dataclass
class RuleRun:
    """One evaluation of one rule of a stage condition (what ListRuleExecutions shows)."""

    rule_execution_id: str
    execution_id: str
    stage: str
    declaration: dict[str, Any]
    resolved_configuration: dict[str, str]
    status: ConditionStatus = ConditionStatus.IN_PROGRESS
    started: datetime.datetime = dataclasses.field(default_factory=now)
    updated: datetime.datetime = dataclasses.field(default_factory=now)
    summary: str | None = None
    error: dict[str, str] | None = None

    @property
    def name(self) -> str:
        return str(self.declaration["name"])


@dataclasses.dataclass
class ConditionRun:
    status: ConditionStatus = ConditionStatus.IN_PROGRESS
    summary: str | None = None
    updated: datetime.datetime = dataclasses.field(default_factory=now)
    rules: list[RuleRun] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class ConditionsRun:
    """A stage's conditions of one kind (beforeEntry, onSuccess, onFailure) in one execution."""

    kind: str
    conditions: list[ConditionRun]
    status: ConditionStatus = ConditionStatus.IN_PROGRESS
    summary: str | None = None
    overridden: bool = False  # OverrideStageCondition: the pending rules are given up


@dataclasses.dataclass
class StageRun:
    name: str
    status: StageStatus = StageStatus.IN_PROGRESS
    started: datetime.datetime = dataclasses.field(default_factory=now)


@dataclasses.dataclass
class Execution:
    id: str
    account_id: str
    region: str
    pipeline_name: str
    pipeline_version: int
    declaration: dict[str, Any]  # the pipeline as it was when the execution started
    trigger: dict[str, str]
    variables: dict[str, str]  # pipeline-level variables (V2), resolved at start
    source_revisions: dict[str, dict[str, str]]  # source action name → its pinned revision
    status: PipelineStatus = PipelineStatus.IN_PROGRESS
    status_summary: str | None = None
    started: datetime.datetime = dataclasses.field(default_factory=now)
    updated: datetime.datetime = dataclasses.field(default_factory=now)
    stop: str | None = None  # None, "abandon" or "wait" once StopPipelineExecution was called
    stop_reason: str | None = None
    stages: dict[str, StageRun] = dataclasses.field(default_factory=dict)
    actions: list[ActionRun] = dataclasses.field(default_factory=list)
    artifacts: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    namespaces: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    running: bool = False  # a thread is working on this execution
    execution_type: str = STANDARD
    rollback_target: str | None = None  # a rollback's target execution id
    # (stage, condition kind) → the latest evaluation of that stage's conditions of that kind
    condition_runs: dict[tuple[str, str], ConditionsRun] = dataclasses.field(default_factory=dict)

    @property
    def mode(self) -> str:
        return str(self.declaration.get("executionMode", "SUPERSEDED"))

    @property
    def role_arn(self) -> str:
        return str(self.declaration["roleArn"])

    def touch(self) -> None:
        self.updated = now()


@dataclasses.dataclass
class Transition:
    """A disabled stage transition (DisableStageTransition); an enabled one keeps who enabled it."""

    enabled: bool
    changed_by: str
    changed_at: datetime.datetime = dataclasses.field(default_factory=now)
    reason: str | None = None


@dataclasses.dataclass
class Pipeline:
    declaration: dict[str, Any]
    arn: str
    created: datetime.datetime = dataclasses.field(default_factory=now)
    updated: datetime.datetime = dataclasses.field(default_factory=now)
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    executions: list[Execution] = dataclasses.field(default_factory=list)  # oldest first
    occupants: dict[str, str] = dataclasses.field(default_factory=dict)  # stage → execution id
    waiting: dict[str, list[str]] = dataclasses.field(default_factory=dict)  # stage → ids
    latest_in_stage: dict[str, str] = dataclasses.field(default_factory=dict)
    started_by_token: dict[str, str] = dataclasses.field(default_factory=dict)  # idempotency
    # (stage, "Inbound" | "Outbound") → its latest Disable/EnableStageTransition
    transitions: dict[tuple[str, str], Transition] = dataclasses.field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.declaration["name"])

    def execution(self, execution_id: str) -> Execution | None:
        return next((e for e in self.executions if e.id == execution_id), None)


@dataclasses.dataclass
class Job:
    """A job of a Lambda invoke action (one per invocation, continuations get new ones) or of a
    custom action (``Queued`` until a job worker's PollForJobs dispatches it)."""

    id: str
    account_id: str
    data: dict[str, Any]
    status: str = "Dispatched"
    nonce: str = ""
    result: dict[str, Any] | None = None  # the PutJob*Result request, once reported


@dataclasses.dataclass
class CustomActionType:
    """A custom action type (CreateCustomActionType): ``action_type`` in the ``ActionType``
    shape ListActionTypes answers."""

    action_type: dict[str, Any]
    tags: dict[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Webhook:
    """A webhook (PutWebhook): its definition as given, and what AWS adds to it."""

    definition: dict[str, Any]
    url: str
    arn: str
    token: str  # the URL's ``t`` parameter, which names the webhook in a trigger call
    tags: dict[str, str] = dataclasses.field(default_factory=dict)
    registered: bool = False  # RegisterWebhookWithThirdParty was called
    last_triggered: datetime.datetime | None = None
