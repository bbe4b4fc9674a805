"""Execution modes of the local CodePipeline: who enters a stage that another execution holds."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from emulator.tests import lane_world
from emulator.tests.lane_world import execution_of, pipeline_of
from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline import lanes, models
from xrdeploy_local_cloud.codepipeline.execution_states import PipelineStatus

STAGE = "Approve"


def _pipeline() -> models.Pipeline:
    return pipeline_of(STAGE)


def _entry(pipeline: models.Pipeline, execution: models.Execution) -> lane_world.Entry:
    return lane_world.Entry(pipeline, execution, STAGE)


def _until(condition: Callable[[], bool]) -> None:
    assert states.wait_for(condition, 5)


def test_superseded_a_newer_arrival_replaces_the_waitingexecution_of() -> None:
    pipeline = _pipeline()
    first, second, third = (execution_of(pipeline, n, "SUPERSEDED") for n in ("1", "2", "3"))
    assert lanes.enter(pipeline, first, STAGE)
    waiting = _entry(pipeline, second)
    _until(lambda: lanes.waiting(pipeline, STAGE) == ["2"])
    newest = _entry(pipeline, third)
    assert waiting.done() is False
    assert second.status == PipelineStatus.SUPERSEDED
    assert second.status_summary == "Superseded by execution 3"
    lanes.leave(pipeline, first, STAGE)
    assert newest.done() is True
    assert pipeline.occupants == {STAGE: "3"}
    assert pipeline.latest_in_stage[STAGE] == "3"


def test_queued_waiting_executions_enter_in_arrival_order() -> None:
    pipeline = _pipeline()
    first, second, third = (execution_of(pipeline, n, "QUEUED") for n in ("1", "2", "3"))
    assert lanes.enter(pipeline, first, STAGE)
    entries = {"2": _entry(pipeline, second)}
    _until(lambda: lanes.waiting(pipeline, STAGE) == ["2"])
    entries["3"] = _entry(pipeline, third)
    _until(lambda: lanes.waiting(pipeline, STAGE) == ["2", "3"])
    lanes.leave(pipeline, first, STAGE)
    assert entries["2"].done() is True
    assert lanes.waiting(pipeline, STAGE) == ["3"]
    assert third.status == PipelineStatus.IN_PROGRESS
    lanes.leave(pipeline, second, STAGE)
    assert entries["3"].done() is True


def test_parallel_executions_do_not_wait() -> None:
    pipeline = _pipeline()
    first, second = (execution_of(pipeline, n, "PARALLEL") for n in ("1", "2"))
    assert lanes.enter(pipeline, first, STAGE)
    assert lanes.enter(pipeline, second, STAGE)
    assert pipeline.occupants == {}


@pytest.mark.parametrize("mode", ["SUPERSEDED", "QUEUED"])
def test_a_stopped_execution_gives_up_waiting(mode: str) -> None:
    pipeline = _pipeline()
    first, second = (execution_of(pipeline, n, mode) for n in ("1", "2"))
    assert lanes.enter(pipeline, first, STAGE)
    waiting = _entry(pipeline, second)
    _until(lambda: lanes.waiting(pipeline, STAGE) == ["2"])
    states.request_stop(second, abandon=False, reason=None)
    assert waiting.done() is False
    assert lanes.waiting(pipeline, STAGE) == []
    assert pipeline.occupants == {STAGE: "1"}
