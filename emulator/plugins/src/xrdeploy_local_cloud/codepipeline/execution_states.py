"""The states of a CodePipeline execution, of its stages, actions and stage conditions, and the
only place they change.

Each kind of run has a typed status (the values are the API's spellings) and a table of the
transitions it allows: ``(status, event) → status``. Every other module asks this one to apply an
event (:func:`pipeline_event`, :func:`stage_event`, :func:`action_event`, :func:`condition_event`
and the functions named after what happens); an event the table does not allow raises
:class:`ImpossibleTransition`, so a bug shows up where it happens instead of as a wrong status.

The lock that orders the changes is private to this module. Threads that run an execution
(the engine, a stage's conditions, an approval waiting for its answer) change other execution
data through :func:`changing` and wait for a change with :func:`wait`; waiters are woken after
every change. The state is small and changes a few times a second at most, so one lock is plenty.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from xrdeploy_local_cloud.codepipeline import models

_CHANGED = threading.Condition(threading.RLock())
_Status = TypeVar("_Status", bound=StrEnum)


class PipelineStatus(StrEnum):
    IN_PROGRESS = "InProgress"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    SUCCEEDED = "Succeeded"
    SUPERSEDED = "Superseded"
    FAILED = "Failed"
    CANCELLED = "Cancelled"


class StageStatus(StrEnum):
    IN_PROGRESS = "InProgress"
    STOPPING = "Stopping"
    STOPPED = "Stopped"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    SKIPPED = "Skipped"  # its entry condition failed with result SKIP
    CANCELLED = "Cancelled"


class ActionStatus(StrEnum):
    IN_PROGRESS = "InProgress"
    ABANDONED = "Abandoned"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


class ConditionStatus(StrEnum):
    """A stage's conditions of one kind, one condition, or one rule of it (a rule is never
    Overridden, Errored or Cancelled)."""

    IN_PROGRESS = "InProgress"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    ERRORED = "Errored"
    ABANDONED = "Abandoned"
    CANCELLED = "Cancelled"
    OVERRIDDEN = "Overridden"  # given up by OverrideStageCondition


class Event(StrEnum):
    SUCCEED = "succeed"
    FAIL = "fail"
    STOP_REQUESTED = "stop requested"  # StopPipelineExecution
    HALT = "halt"  # the run ended without an outcome: stopped, or superseded while waiting
    SUPERSEDE = "supersede"  # a newer execution arrived at the stage this one waits for
    RETRY = "retry"  # RetryStageExecution
    SKIP = "skip"
    ABANDON = "abandon"
    OVERRIDE = "override"  # OverrideStageCondition


_P, _S, _A, _C, _E = PipelineStatus, StageStatus, ActionStatus, ConditionStatus, Event

PIPELINE: Mapping[tuple[PipelineStatus, Event], PipelineStatus] = {
    (_P.IN_PROGRESS, _E.SUCCEED): _P.SUCCEEDED,
    (_P.IN_PROGRESS, _E.FAIL): _P.FAILED,
    (_P.IN_PROGRESS, _E.HALT): _P.STOPPED,
    (_P.IN_PROGRESS, _E.STOP_REQUESTED): _P.STOPPING,
    (_P.IN_PROGRESS, _E.SUPERSEDE): _P.SUPERSEDED,
    # A stop-and-wait may be escalated to abandon; whatever its stages did, it ends Stopped.
    (_P.STOPPING, _E.STOP_REQUESTED): _P.STOPPING,
    (_P.STOPPING, _E.SUCCEED): _P.STOPPED,
    (_P.STOPPING, _E.FAIL): _P.STOPPED,
    (_P.STOPPING, _E.HALT): _P.STOPPED,
    # A superseded execution's thread ends without entering the stage.
    (_P.SUPERSEDED, _E.HALT): _P.SUPERSEDED,
    (_P.FAILED, _E.RETRY): _P.IN_PROGRESS,
    (_P.STOPPED, _E.RETRY): _P.IN_PROGRESS,
}
STAGE: Mapping[tuple[StageStatus, Event], StageStatus] = {
    (_S.IN_PROGRESS, _E.SUCCEED): _S.SUCCEEDED,
    (_S.IN_PROGRESS, _E.FAIL): _S.FAILED,
    (_S.IN_PROGRESS, _E.HALT): _S.STOPPED,
    (_S.IN_PROGRESS, _E.SKIP): _S.SKIPPED,
}
ACTION: Mapping[tuple[ActionStatus, Event], ActionStatus] = {
    (_A.IN_PROGRESS, _E.SUCCEED): _A.SUCCEEDED,
    (_A.IN_PROGRESS, _E.FAIL): _A.FAILED,
    (_A.IN_PROGRESS, _E.ABANDON): _A.ABANDONED,
}
CONDITION: Mapping[tuple[ConditionStatus, Event], ConditionStatus] = {
    (_C.IN_PROGRESS, _E.SUCCEED): _C.SUCCEEDED,
    (_C.IN_PROGRESS, _E.FAIL): _C.FAILED,
    (_C.IN_PROGRESS, _E.ABANDON): _C.ABANDONED,
    (_C.IN_PROGRESS, _E.OVERRIDE): _C.OVERRIDDEN,
}
# A rule ends as a condition does, but only OverrideStageCondition overrides, and it names a
# stage's conditions, not a rule.
RULE = {key: status for key, status in CONDITION.items() if key[1] is not _E.OVERRIDE}
FINISHED = frozenset({_P.SUCCEEDED, _P.FAILED, _P.STOPPED, _P.SUPERSEDED, _P.CANCELLED})

# The event that ends a run with that outcome (engine, gates and rules speak in outcomes).
_OUTCOME_EVENT: Mapping[str, Event] = {
    "Succeeded": _E.SUCCEED,
    "Failed": _E.FAIL,
    "Stopped": _E.HALT,
    "Skipped": _E.SKIP,
    "Abandoned": _E.ABANDON,
    "Overridden": _E.OVERRIDE,
}


class ImpossibleTransition(RuntimeError):
    def __init__(self, kind: str, status: str, event: Event) -> None:
        super().__init__(f"a {kind} run that is {status} cannot {event.value}")


def move(
    kind: str, table: Mapping[tuple[_Status, Event], _Status], status: _Status, event: Event
) -> _Status:
    """The status ``event`` moves a run of ``kind`` to, by its table."""
    moved = table.get((status, event))
    if moved is None:
        raise ImpossibleTransition(kind, status, event)
    return moved


def event_for(outcome: str) -> Event:
    """The event that ends a run with ``outcome`` (Succeeded, Failed, Stopped, ...)."""
    return _OUTCOME_EVENT[outcome]


@contextmanager
def changing() -> Iterator[None]:
    """Hold the state's lock for a change to execution data other than a status (queues,
    artifacts, tokens, jobs); everything waiting is woken afterwards."""
    with _CHANGED:
        try:
            yield
        finally:
            _CHANGED.notify_all()


@contextmanager
def reading() -> Iterator[None]:
    """Hold the state's lock for a consistent read."""
    with _CHANGED:
        yield


def wait(seconds: float) -> None:
    """Inside :func:`changing` or :func:`reading`: let go of the lock until the next change or
    for ``seconds`` at most."""
    _CHANGED.wait(seconds)


def wait_for(done: Callable[[], bool], seconds: float) -> bool:
    """Wait until ``done()`` holds (checked after every change) or ``seconds`` pass; whether
    it holds."""
    with _CHANGED:
        return _CHANGED.wait_for(done, seconds)


def pipeline_event(execution: models.Execution, event: Event, summary: str | None = None) -> None:
    with changing():
        execution.status = move("pipeline", PIPELINE, execution.status, event)
        if summary is not None:
            execution.status_summary = summary
        execution.touch()


def run_started(execution: models.Execution) -> None:
    """A thread works on the execution from now on (RetryStageExecution waits for it to end)."""
    with changing():
        execution.running = True


def run_ended(execution: models.Execution, outcome: StageStatus) -> PipelineStatus:
    """The execution's thread ended, its stages with ``outcome``; the execution's status."""
    with changing():
        if execution.stop:  # stopped (or its pipeline deleted), whatever its stages did
            pipeline_event(execution, Event.HALT)
            execution.status_summary = execution.stop_reason
        else:
            pipeline_event(execution, event_for(outcome))
        execution.running = False
        return execution.status


def request_stop(execution: models.Execution, abandon: bool, reason: str | None) -> None:
    """StopPipelineExecution: the execution is Stopping; its thread ends it (at once when
    ``abandon``, else once the running actions end)."""
    with changing():
        pipeline_event(execution, Event.STOP_REQUESTED)
        execution.stop = "abandon" if abandon else "wait"
        execution.stop_reason = reason or execution.stop_reason


def retry(execution: models.Execution) -> None:
    """RetryStageExecution: the execution is in progress again, with no stop pending."""
    with changing():
        pipeline_event(execution, Event.RETRY)
        execution.stop = execution.stop_reason = execution.status_summary = None


def overridable(run: models.ConditionsRun) -> bool:
    with reading():
        return run.status == ConditionStatus.IN_PROGRESS and not run.overridden


def request_override(run: models.ConditionsRun) -> None:
    """OverrideStageCondition: the rules still running are given up; the run ends Overridden."""
    with changing():
        if not overridable(run):
            raise ImpossibleTransition("condition", run.status, Event.OVERRIDE)
        run.overridden = True


def abandon(execution: models.Execution) -> None:
    """Its pipeline was deleted: an unfinished execution is given up; its thread ends it
    Stopped."""
    with changing():
        if execution.status not in FINISHED:
            execution.stop = "abandon"


def begin_stage(execution: models.Execution, stage: str) -> None:
    """The execution enters ``stage``: a new run of it, in progress (a retry's too)."""
    from xrdeploy_local_cloud.codepipeline.models import StageRun  # models imports this module

    with changing():
        execution.stages[stage] = StageRun(stage)
        execution.touch()


def stage_event(execution: models.Execution, stage: str, event: Event) -> StageStatus:
    with changing():
        run = execution.stages[stage]
        run.status = move("stage", STAGE, run.status, event)
        execution.touch()
        return run.status


def action_event(run: models.ActionRun, event: Event) -> None:
    with changing():
        run.status = move("action", ACTION, run.status, event)


def condition_event(
    run: models.ConditionsRun | models.ConditionRun, event: Event, summary: str | None = None
) -> None:
    """A stage's conditions of one kind, or one condition, ended (``summary``: why)."""
    from xrdeploy_local_cloud.codepipeline.models import ConditionRun, now  # models imports us

    with changing():
        run.status = move("condition", CONDITION, run.status, event)
        run.summary = summary
        if isinstance(run, ConditionRun):
            run.updated = now()


def end_rule(
    run: models.RuleRun, outcome: ConditionStatus, summary: str, error_code: str | None
) -> None:
    """A rule ended with ``outcome`` (Succeeded, Failed or Abandoned)."""
    from xrdeploy_local_cloud.codepipeline.models import now  # models imports this module

    with changing():
        run.status = move("rule", RULE, run.status, event_for(outcome))
        run.summary = summary
        if error_code:
            run.error = {"code": error_code, "message": summary[:5000]}
        run.updated = now()
