"""Who may enter a stage: the execution modes of a pipeline.

* SUPERSEDED (AWS's default): a stage holds one execution at a time; an execution waiting to
  enter a stage is superseded by a more recent one arriving at the same stage (status
  ``Superseded``), so the newest revision always goes next.
* QUEUED: a stage holds one execution at a time; waiting executions enter in arrival order.
* PARALLEL: executions do not wait for each other.

A stage is held from the moment an execution enters it until the stage ends (succeeded, failed
or stopped); an execution waiting for the next stage holds nothing. A disabled transition into
a stage (:mod:`.transitions`) keeps every execution waiting to enter it, whatever the mode.
"""

from __future__ import annotations

from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline import models, transitions
from xrdeploy_local_cloud.codepipeline.execution_states import Event, PipelineStatus

_WAIT = 1.0  # seconds between checks, besides the notifications


def enter(pipeline: models.Pipeline, execution: models.Execution, stage: str) -> bool:
    """Wait until ``execution`` may run ``stage``; False if it ended (superseded, stopped)."""
    mode = execution.mode
    with states.changing():  # its arrival wakes whoever watches the queue
        queue = pipeline.waiting.setdefault(stage, [])
        queue.append(execution.id)
        if mode == "SUPERSEDED":
            _supersede_older(pipeline, execution, queue)
    with states.changing():
        try:
            while True:
                if execution.status != PipelineStatus.IN_PROGRESS or execution.stop:
                    return False
                free = mode == "PARALLEL" or stage not in pipeline.occupants
                if (
                    free
                    and transitions.open_into(pipeline, stage)
                    and (mode != "QUEUED" or queue[0] == execution.id)
                ):
                    if mode != "PARALLEL":
                        pipeline.occupants[stage] = execution.id
                    pipeline.latest_in_stage[stage] = execution.id
                    return True
                states.wait(_WAIT)
        finally:
            queue.remove(execution.id)


def _supersede_older(pipeline: models.Pipeline, newer: models.Execution, queue: list[str]) -> None:
    for waiting_id in queue:
        waiting = pipeline.execution(waiting_id)
        if waiting is None or waiting is newer or waiting.status != PipelineStatus.IN_PROGRESS:
            continue
        if waiting.started <= newer.started:
            states.pipeline_event(waiting, Event.SUPERSEDE, f"Superseded by execution {newer.id}")
        else:
            states.pipeline_event(newer, Event.SUPERSEDE, f"Superseded by execution {waiting.id}")


def leave(pipeline: models.Pipeline, execution: models.Execution, stage: str) -> None:
    with states.changing():
        if pipeline.occupants.get(stage) == execution.id:
            del pipeline.occupants[stage]


def waiting(pipeline: models.Pipeline, stage: str) -> list[str]:
    """Ids of the executions waiting to enter ``stage`` (GetPipelineState's inbound)."""
    with states.reading():
        return list(pipeline.waiting.get(stage, []))
