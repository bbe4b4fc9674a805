"""A pipeline, its executions and a blocking stage entry, for the tests of who may enter a stage
(execution modes in test_codepipeline_lanes.py, transitions in test_codepipeline_transitions.py)."""

from __future__ import annotations

import datetime
import threading

from xrdeploy_local_cloud.codepipeline import lanes, models

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def pipeline_of(*stages: str) -> models.Pipeline:
    declaration = {"name": "p", "stages": [{"name": stage} for stage in stages]}
    return models.Pipeline(declaration=declaration, arn="arn:aws:codepipeline:r:1:p")


def execution_of(pipeline: models.Pipeline, name: str, mode: str) -> models.Execution:
    """A new execution of `pipeline` in `mode`, started a second after the one before it."""
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
    """``lanes.enter`` into `stage` in a thread of its own, since it blocks while held."""

    def __init__(self, pipeline: models.Pipeline, execution: models.Execution, stage: str) -> None:
        self.result: bool | None = None
        self._thread = threading.Thread(
            target=self._enter, args=(pipeline, execution, stage), daemon=True
        )
        self._thread.start()

    def _enter(self, pipeline: models.Pipeline, execution: models.Execution, stage: str) -> None:
        self.result = lanes.enter(pipeline, execution, stage)

    def done(self) -> bool | None:
        self._thread.join(timeout=5)
        assert not self._thread.is_alive(), "enter() did not return"
        return self.result
