"""State-change events to the account's default EventBridge bus, as CodePipeline sends them.

Detail types "CodePipeline Pipeline Execution State Change", "CodePipeline Stage Execution State
Change" and "CodePipeline Action Execution State Change", source ``aws.codepipeline``, the
pipeline's ARN as resource and AWS's detail fields. Sent in order by one worker thread, so the
engine never waits for EventBridge.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from typing import Any

from localstack.aws.connect import connect_to

from xrdeploy_local_cloud.codepipeline import models

LOG = logging.getLogger(__name__)
PIPELINE = "CodePipeline Pipeline Execution State Change"
STAGE = "CodePipeline Stage Execution State Change"
ACTION = "CodePipeline Action Execution State Change"

_queue: queue.Queue[tuple[str, str, str, dict[str, Any]]] = queue.Queue()
_worker: threading.Thread | None = None
_worker_lock = threading.Lock()


def _base(execution: models.Execution, state: str) -> dict[str, Any]:
    return {
        "pipeline": execution.pipeline_name,
        "execution-id": execution.id,
        "start-time": execution.started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "state": state,
        "version": float(execution.pipeline_version),
        "pipeline-execution-attempt": 1.0,
    }


def pipeline_changed(execution: models.Execution, state: str) -> None:
    detail = _base(execution, state)
    detail["execution-trigger"] = {
        "trigger-type": execution.trigger["triggerType"],
        "trigger-detail": execution.trigger.get("triggerDetail", ""),
    }
    _send(execution, PIPELINE, detail)


def stage_changed(execution: models.Execution, stage: str, state: str) -> None:
    _send(execution, STAGE, {**_base(execution, state), "stage": stage})


def action_changed(execution: models.Execution, run: models.ActionRun, state: str) -> None:
    type_id = run.declaration["actionTypeId"]
    detail = {
        **_base(execution, state),
        "stage": run.stage,
        "action": run.name,
        "region": execution.region,
        "type": {key: type_id[key] for key in ("owner", "provider", "category", "version")},
    }
    if run.input_artifacts:
        detail["input-artifacts"] = run.input_artifacts
    if run.output_artifacts:
        detail["output-artifacts"] = run.output_artifacts
    if run.status != models.IN_PROGRESS:
        result = {"external-execution-state": run.status}
        for key, value in (
            ("external-execution-id", run.external_id),
            ("external-execution-url", run.external_url),
            ("external-execution-summary", run.summary),
            ("error-code", (run.error or {}).get("code")),
        ):
            if value:
                result[key] = value
        detail["execution-result"] = result
    _send(execution, ACTION, detail)


def _send(execution: models.Execution, detail_type: str, detail: dict[str, Any]) -> None:
    arn = (
        f"arn:aws:codepipeline:{execution.region}:{execution.account_id}:{execution.pipeline_name}"
    )
    entry = {
        "Source": "aws.codepipeline",
        "DetailType": detail_type,
        "Resources": [arn],
        "Detail": json.dumps(detail),
    }
    put(execution.account_id, execution.region, entry)


def put(account_id: str, region: str, entry: dict[str, Any]) -> None:
    """Queue one event for the default bus of ``account_id``/``region`` (also used by the local
    CodeDeploy): events go out in order, and the caller never waits for EventBridge."""
    global _worker
    _queue.put((account_id, region, str(entry["DetailType"]), entry))
    with _worker_lock:
        if _worker is None:
            _worker = threading.Thread(target=_deliver, name="service-events", daemon=True)
            _worker.start()


def _deliver() -> None:
    while True:
        account_id, region, detail_type, entry = _queue.get()
        try:
            events = connect_to(aws_access_key_id=account_id, region_name=region).events
            events.put_events(Entries=[entry])
        except Exception:
            LOG.warning("could not send the %s event to EventBridge", detail_type, exc_info=True)
