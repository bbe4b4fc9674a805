"""Execution modes of the local CodePipeline: who enters a stage that another execution holds."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable

import pytest

from xrdeploy_local_cloud.codepipeline import lanes, models

STAGE = "Approve"
T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def _pipeline() -> models.Pipeline:
    return models.Pipeline(declaration={"name": "p"}, arn="arn:aws:codepipeline:r:1:p")


def _execution(pipeline: models.Pipeline, name: str, mode: str) -> models.Execution:
    execution = models.Execution(
        id=name,
        account_id="000000000000",
        region="us-east-1",
        pipeline_name="p",
        pipeline_version=1,
        declaration={"executionMode": mode},
        trigger={},
        variables={},
        source_revisions={},
        started=T0 + datetime.timedelta(seconds=len(pipeline.executions)),
    )
    pipeline.executions.append(execution)
    return execution


class Entry:
    """``lanes.enter`` in a thread of its own, since it blocks while the stage is held."""

    def __init__(self, pipeline: models.Pipeline, execution: models.Execution) -> None:
        self.result: bool | None = None
        self._thread = threading.Thread(target=self._enter, args=(pipeline, execution), daemon=True)
        self._thread.start()

    def _enter(self, pipeline: models.Pipeline, execution: models.Execution) -> None:
        self.result = lanes.enter(pipeline, execution, STAGE)

    def done(self) -> bool | None:
        self._thread.join(timeout=5)
        assert not self._thread.is_alive(), "enter() did not return"
        return self.result


def _until(condition: Callable[[], bool]) -> None:
    with models.CHANGED:
        assert models.CHANGED.wait_for(condition, timeout=5)


def test_superseded_a_newer_arrival_replaces_the_waiting_execution() -> None:
    pipeline = _pipeline()
    first, second, third = (_execution(pipeline, n, "SUPERSEDED") for n in ("1", "2", "3"))
    assert lanes.enter(pipeline, first, STAGE)
    waiting = Entry(pipeline, second)
    _until(lambda: lanes.waiting(pipeline, STAGE) == ["2"])
    newest = Entry(pipeline, third)
    assert waiting.done() is False
    assert second.status == models.SUPERSEDED
    assert second.status_summary == "Superseded by execution 3"
    lanes.leave(pipeline, first, STAGE)
    assert newest.done() is True
    assert pipeline.occupants == {STAGE: "3"}
    assert pipeline.latest_in_stage[STAGE] == "3"


def test_queued_waiting_executions_enter_in_arrival_order() -> None:
    pipeline = _pipeline()
    first, second, third = (_execution(pipeline, n, "QUEUED") for n in ("1", "2", "3"))
    assert lanes.enter(pipeline, first, STAGE)
    entries = {"2": Entry(pipeline, second)}
    _until(lambda: lanes.waiting(pipeline, STAGE) == ["2"])
    entries["3"] = Entry(pipeline, third)
    _until(lambda: lanes.waiting(pipeline, STAGE) == ["2", "3"])
    lanes.leave(pipeline, first, STAGE)
    assert entries["2"].done() is True
    assert lanes.waiting(pipeline, STAGE) == ["3"]
    assert third.status == models.IN_PROGRESS
    lanes.leave(pipeline, second, STAGE)
    assert entries["3"].done() is True


def test_parallel_executions_do_not_wait() -> None:
    pipeline = _pipeline()
    first, second = (_execution(pipeline, n, "PARALLEL") for n in ("1", "2"))
    assert lanes.enter(pipeline, first, STAGE)
    assert lanes.enter(pipeline, second, STAGE)
    assert pipeline.occupants == {}


@pytest.mark.parametrize("mode", ["SUPERSEDED", "QUEUED"])
def test_a_stopped_execution_gives_up_waiting(mode: str) -> None:
    pipeline = _pipeline()
    first, second = (_execution(pipeline, n, mode) for n in ("1", "2"))
    assert lanes.enter(pipeline, first, STAGE)
    waiting = Entry(pipeline, second)
    _until(lambda: lanes.waiting(pipeline, STAGE) == ["2"])
    with models.CHANGED:
        second.stop = "wait"
        models.CHANGED.notify_all()
    assert waiting.done() is False
    assert lanes.waiting(pipeline, STAGE) == []
    assert pipeline.occupants == {STAGE: "1"}
