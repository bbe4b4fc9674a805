"""What stage conditions show: the condition states of GetPipelineState, ListRuleExecutions and
ListRuleTypes, in the API's shapes."""

from __future__ import annotations

from typing import Any

from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline import models
from xrdeploy_local_cloud.codepipeline.lookups import compact, filtered_executions
from xrdeploy_local_cloud.codepipeline.stores import State
from xrdeploy_local_cloud.kit import paging

Request = dict[str, Any]
STATE_KEYS = {
    models.BEFORE_ENTRY: "beforeEntryConditionState",
    models.ON_SUCCESS: "onSuccessConditionState",
    models.ON_FAILURE: "onFailureConditionState",
}


def _rule_state(rule: models.RuleRun) -> dict[str, Any]:
    return {
        "ruleName": rule.name,
        "latestExecution": compact(
            {
                "ruleExecutionId": rule.rule_execution_id,
                "status": rule.status,
                "summary": rule.summary,
                "lastStatusChange": rule.updated,
                "errorDetails": rule.error,
            }
        ),
    }


def condition_states(execution: models.Execution, stage: str) -> dict[str, Any]:
    """The stage's condition states for ``execution`` (call within execution_states.reading())."""
    shown: dict[str, Any] = {}
    for kind, key in STATE_KEYS.items():
        run = execution.condition_runs.get((stage, kind))
        if run is None:
            continue
        shown[key] = {
            "latestExecution": compact({"status": run.status, "summary": run.summary}),
            "conditionStates": [
                {
                    "latestExecution": compact(
                        {"status": c.status, "summary": c.summary, "lastStatusChange": c.updated}
                    ),
                    "ruleStates": [_rule_state(r) for r in c.rules],
                }
                for c in run.conditions
            ],
        }
    return shown


def _rule_detail(execution: models.Execution, rule: models.RuleRun) -> dict[str, Any]:
    declaration = rule.declaration
    return compact(
        {
            "pipelineExecutionId": execution.id,
            "ruleExecutionId": rule.rule_execution_id,
            "pipelineVersion": execution.pipeline_version,
            "stageName": rule.stage,
            "ruleName": rule.name,
            "startTime": rule.started,
            "lastUpdateTime": rule.updated,
            "status": rule.status,
            "input": compact(
                {
                    "ruleTypeId": declaration["ruleTypeId"],
                    "configuration": declaration.get("configuration", {}),
                    "resolvedConfiguration": rule.resolved_configuration,
                    "roleArn": declaration.get("roleArn"),
                    "region": declaration.get("region", execution.region),
                    "inputArtifacts": [],
                }
            ),
            "output": {
                "executionResult": compact(
                    {"externalExecutionSummary": rule.summary, "errorDetails": rule.error}
                )
            },
        }
    )


def list_rule_executions(state: State, request: Request) -> dict[str, Any]:
    executions = filtered_executions(state, request)
    with states.reading():
        details = [
            _rule_detail(e, r)
            for e in executions
            for run in e.condition_runs.values()
            for c in run.conditions
            for r in c.rules
        ]
    details.sort(key=lambda d: d["startTime"], reverse=True)
    page, token = paging.page(details, request)
    return compact({"ruleExecutionDetails": page, "nextToken": token})


def _property(name: str, required: bool, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "required": required,
        "key": required,
        "secret": False,
        "queryable": False,
        "description": description,
        "type": "String",
    }


# The rule types this local cloud runs (AWS's list also has LambdaInvoke, VariableCheck and
# Commands, which it does not).
RULE_TYPES: list[dict[str, Any]] = [
    {
        "id": {"category": "Rule", "owner": "AWS", "provider": "CloudWatchAlarm", "version": "1"},
        "ruleConfigurationProperties": [
            _property("AlarmName", True, "The name of the CloudWatch alarm"),
            _property("AlarmStates", False, "The alarm states that fail the rule"),
            _property("WaitTime", False, "Minutes to wait for a state change"),
        ],
        "inputArtifactDetails": {"minimumCount": 0, "maximumCount": 0},
    },
    {
        "id": {"category": "Rule", "owner": "AWS", "provider": "DeploymentWindow", "version": "1"},
        "ruleConfigurationProperties": [
            _property("Cron", True, "When deployments are allowed"),
            _property("TimeZone", False, "The time zone of the cron expression"),
        ],
        "inputArtifactDetails": {"minimumCount": 0, "maximumCount": 0},
    },
]


def list_rule_types(state: State, request: Request) -> dict[str, Any]:
    owner = request.get("ruleOwnerFilter")
    return {"ruleTypes": [t for t in RULE_TYPES if not owner or t["id"]["owner"] == owner]}
