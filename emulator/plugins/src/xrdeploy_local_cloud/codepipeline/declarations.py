"""Pipeline declarations: the defaults AWS fills in and the structure rules it enforces.

GetPipeline answers what CreatePipeline was given plus AWS's defaults (``pipelineType`` V1,
``executionMode`` SUPERSEDED, ``runOrder`` 1, empty artifact lists), which is what Terraform
reads back; anything else would show up as a diff on the next plan.
"""

from __future__ import annotations

import copy
from typing import Any

from xrdeploy_local_cloud.codepipeline import trigger_rules

EXECUTION_MODES = ("SUPERSEDED", "QUEUED", "PARALLEL")


class DeclarationError(Exception):
    """A declaration AWS refuses: ``code`` is the API's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _invalid(message: str) -> DeclarationError:
    return DeclarationError("InvalidStructureException", message)


def normalized(declaration: dict[str, Any], version: int) -> dict[str, Any]:
    """A copy of ``declaration`` as GetPipeline answers it, after checking its structure."""
    pipeline = copy.deepcopy(declaration)
    pipeline["version"] = version
    pipeline.setdefault("pipelineType", "V1")
    pipeline.setdefault("executionMode", "SUPERSEDED")
    for stage in pipeline.get("stages", []):
        for action in stage.get("actions", []):
            action.setdefault("runOrder", 1)
            action.setdefault("inputArtifacts", [])
            action.setdefault("outputArtifacts", [])
    check_structure(pipeline)
    return pipeline


def check_structure(pipeline: dict[str, Any]) -> None:
    stages = pipeline.get("stages", [])
    if len(stages) < 2:
        raise _invalid(
            f"Pipeline has only {len(stages)} stage(s). "
            "There should be a minimum of 2 stages in a pipeline"
        )
    mode = pipeline["executionMode"]
    if mode not in EXECUTION_MODES:
        raise DeclarationError("ValidationException", f"Invalid execution mode: {mode}")
    if mode != "SUPERSEDED" and pipeline["pipelineType"] != "V2":
        raise _invalid(f"Execution mode {mode} is only supported for pipelines of type V2")
    if "artifactStore" not in pipeline and "artifactStores" not in pipeline:
        raise _invalid("Pipeline must have an artifact store")
    _check_stages(stages)
    _check_conditions(pipeline)
    if wrong_trigger := trigger_rules.problem(pipeline):
        raise _invalid(wrong_trigger)


# The results each kind of stage condition may engage (the API's Result values per kind).
CONDITION_RESULTS = {
    "beforeEntry": ("FAIL", "SKIP"),
    "onSuccess": ("ROLLBACK", "FAIL"),
    "onFailure": ("ROLLBACK", "RETRY", "FAIL"),
}


def _check_conditions(pipeline: dict[str, Any]) -> None:
    for stage in pipeline["stages"]:
        for key, results in CONDITION_RESULTS.items():
            declared = stage.get(key)
            if declared is None:
                continue
            if pipeline["pipelineType"] != "V2":
                raise _invalid(f"Stage {stage['name']}: {key} conditions need a V2 pipeline")
            given = [declared.get("result")] + [
                c.get("result") for c in declared.get("conditions") or []
            ]
            for result in given:
                if result is not None and result not in results:
                    raise _invalid(f"Stage {stage['name']}: {key} cannot have the result {result}")
            for condition in declared.get("conditions") or []:
                for rule in condition.get("rules") or []:
                    type_id = rule.get("ruleTypeId", {})
                    if type_id.get("category") != "Rule" or type_id.get("owner", "AWS") != "AWS":
                        raise _invalid(
                            f"Stage {stage['name']}: rule {rule.get('name')} must be of "
                            "category Rule, owner AWS"
                        )


def _check_stages(stages: list[dict[str, Any]]) -> None:
    produced: set[str] = set()
    namespaces: set[str] = set()
    stage_names: set[str] = set()
    for index, stage in enumerate(stages):
        if stage["name"] in stage_names:
            raise _invalid(f"Stage name '{stage['name']}' is used more than once")
        stage_names.add(stage["name"])
        if not stage.get("actions"):
            raise _invalid(f"Stage {stage['name']} must have at least one action")
        action_names: set[str] = set()
        for action in stage["actions"]:
            _check_action(index, stage["name"], action, produced, namespaces, action_names)
        for action in stage["actions"]:
            produced.update(a["name"] for a in action["outputArtifacts"])


def _check_action(
    index: int,
    stage: str,
    action: dict[str, Any],
    produced: set[str],
    namespaces: set[str],
    action_names: set[str],
) -> None:
    name = action["name"]
    if name in action_names:
        raise _invalid(f"Action name '{name}' is used more than once in stage {stage}")
    action_names.add(name)
    is_source = action["actionTypeId"]["category"] == "Source"
    if index == 0 and not is_source:
        raise _invalid(f"Stage {stage} must contain only source actions")
    if index > 0 and is_source:
        raise _invalid(f"Action {name} in stage {stage}: source actions must be in the first stage")
    for artifact in action["inputArtifacts"]:
        if artifact["name"] not in produced:
            raise _invalid(
                f"Input Artifact Bundle {artifact['name']} in action {name} is not declared "
                "as an output artifact in a preceding action"
            )
    for artifact in action["outputArtifacts"]:
        if artifact["name"] in produced:
            raise _invalid(f"Output Artifact Bundle name {artifact['name']} is not unique")
    namespace = action.get("namespace")
    if namespace:
        if namespace in namespaces or namespace in ("codepipeline", "variables"):
            raise _invalid(f"Namespace {namespace} is not unique or is reserved")
        namespaces.add(namespace)


def artifact_store(pipeline: dict[str, Any], region: str) -> dict[str, Any]:
    """The store a stage's artifacts go to: the pipeline's, or its region's for cross-region."""
    if "artifactStore" in pipeline:
        return dict(pipeline["artifactStore"])
    return dict(pipeline["artifactStores"][region])
