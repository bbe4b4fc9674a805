"""What an action gets from the engine and what it gives back."""

from __future__ import annotations

import dataclasses
import secrets
import string
from typing import Any

from xrdeploy_local_cloud.codepipeline import models
from xrdeploy_local_cloud.codepipeline.execution_states import ActionStatus

_KEY_ALPHABET = string.ascii_letters + string.digits


@dataclasses.dataclass
class ActionContext:
    pipeline: models.Pipeline
    execution: models.Execution
    run: models.ActionRun
    artifact_store: dict[str, Any]  # {"type", "location", "encryptionKey"?}

    @property
    def configuration(self) -> dict[str, str]:
        return self.run.resolved_configuration

    def abandoned(self) -> bool:
        """Stopped with abandon (or the pipeline deleted): in-progress work is given up."""
        return self.execution.stop == "abandon"

    def new_artifact_location(self, artifact: str) -> dict[str, str]:
        """Where an output artifact goes, named as CodePipeline names it:
        ``<pipeline name, 20 chars>/<artifact name, 10 chars>/<7 random characters>``."""
        suffix = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(7))
        key = f"{self.pipeline.name[:20]}/{artifact[:10]}/{suffix}"
        return {"bucket": str(self.artifact_store["location"]), "key": key}

    def kms_key_id(self) -> str | None:
        key = self.artifact_store.get("encryptionKey")
        return str(key["id"]) if key else None


@dataclasses.dataclass
class Outcome:
    status: ActionStatus  # SUCCEEDED, FAILED or ABANDONED
    summary: str | None = None
    external_id: str | None = None
    external_url: str | None = None
    error: dict[str, str] | None = None
    output_artifacts: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    output_variables: dict[str, str] = dataclasses.field(default_factory=dict)


def failed(message: str, code: str = "JobFailed", **fields: Any) -> Outcome:
    return Outcome(ActionStatus.FAILED, error={"code": code, "message": message[:5000]}, **fields)
