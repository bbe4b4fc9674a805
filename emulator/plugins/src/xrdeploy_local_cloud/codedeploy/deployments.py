"""Deployments, their targets and the application revisions, as the API shows them.

CreateDeployment registers the revision with the application (as AWS does), refuses a second
active deployment in a group, and hands the deployment to :mod:`.engine`, which runs it in the
background; every read answers from what the engine has recorded so far.
"""

from __future__ import annotations

from typing import Any

from xrdeploy_local_cloud.codedeploy import control, engine, model
from xrdeploy_local_cloud.codedeploy.model import RegionState
from xrdeploy_local_cloud.kit.errors import ServiceError

BUNDLE_TYPES = ("tar", "tgz", "zip", "YAML", "JSON")
BATCH_LIMIT = 100  # instance ids per BatchGetDeploymentInstances
REVISION_BATCH_LIMIT = 25  # revisions per BatchGetApplicationRevisions


def _check_revision(revision: dict[str, Any] | None) -> dict[str, Any]:
    if not revision:
        raise ServiceError("RevisionRequiredException", "The revision must be specified.")
    if revision.get("revisionType") != "S3":
        raise ServiceError(
            "InvalidRevisionException",
            "The local cloud deploys S3 revisions only (revisionType S3).",
        )
    s3 = revision.get("s3Location") or {}
    if not s3.get("bucket") or not s3.get("key"):
        raise ServiceError(
            "InvalidRevisionException", "The S3 revision must name a bucket and a key."
        )
    if s3.get("bundleType") not in BUNDLE_TYPES:
        raise ServiceError(
            "InvalidRevisionException", "The bundle type must be one of tar, tgz or zip."
        )
    return revision


def register(
    state: RegionState, app: model.Application, revision: dict[str, Any], **info: Any
) -> dict[str, Any]:
    entry = app.revisions.setdefault(
        model.revision_key(revision),
        {"revision": revision, "registerTime": model.now(), "deploymentGroups": []},
    )
    entry.update({key: value for key, value in info.items() if value is not None})
    return entry


def create_deployment(
    state: RegionState, request: dict[str, Any], cloud: engine.Cloud
) -> dict[str, Any]:
    with state.lock:
        group = state.group(request.get("applicationName"), request.get("deploymentGroupName"))
        revision = _check_revision(request.get("revision"))
        for other in state.deployments.values():
            if other.group_id == group.group_id and other.status not in model.FINAL_STATUSES:
                raise ServiceError(
                    "DeploymentLimitExceededException",
                    f"The Deployment Group '{group.name}' already has an active Deployment "
                    f"'{other.deployment_id}'",
                )
        config_name = (
            request.get("deploymentConfigName")
            or group.settings.get("deploymentConfigName")
            or control.DEFAULT_CONFIG
        )
        state.config(config_name)
        last = state.deployments.get(group.last_successful or "")
        deployment = model.Deployment(
            deployment_id=model.new_deployment_id(),
            application_name=group.application_name,
            group_name=group.name,
            group_id=group.group_id,
            config_name=config_name,
            revision=revision,
            description=request.get("description"),
            ignore_application_stop_failures=bool(request.get("ignoreApplicationStopFailures")),
            auto_rollback=request.get("autoRollbackConfiguration")
            or group.settings.get("autoRollbackConfiguration"),
            file_exists_behavior=request.get("fileExistsBehavior") or "DISALLOW",
            previous_revision=last.revision if last else None,
        )
        app = state.application(group.application_name)
        entry = register(state, app, revision, lastUsedTime=model.now())
        entry.setdefault("firstUsedTime", entry["lastUsedTime"])
        if group.name not in entry["deploymentGroups"]:
            entry["deploymentGroups"].append(group.name)
        state.deployments[deployment.deployment_id] = deployment
    engine.start(state, deployment, cloud)
    return {"deploymentId": deployment.deployment_id}


def deployment_view(deployment: model.Deployment) -> dict[str, Any]:
    with deployment.lock:
        view: dict[str, Any] = {
            "applicationName": deployment.application_name,
            "deploymentGroupName": deployment.group_name,
            "deploymentConfigName": deployment.config_name,
            "deploymentId": deployment.deployment_id,
            "revision": deployment.revision,
            "status": deployment.status,
            "createTime": deployment.create_time,
            "deploymentOverview": deployment.overview(),
            "creator": deployment.creator,
            "ignoreApplicationStopFailures": deployment.ignore_application_stop_failures,
            "updateOutdatedInstancesOnly": False,
            "deploymentStyle": {
                "deploymentType": "IN_PLACE",
                "deploymentOption": "WITHOUT_TRAFFIC_CONTROL",
            },
            "instanceTerminationWaitTimeStarted": False,
            "fileExistsBehavior": deployment.file_exists_behavior,
            "deploymentStatusMessages": [],
            "computePlatform": "Server",
        }
        optional = {
            "previousRevision": deployment.previous_revision,
            "errorInformation": deployment.error,
            "startTime": deployment.start_time,
            "completeTime": deployment.complete_time,
            "description": deployment.description,
            "autoRollbackConfiguration": deployment.auto_rollback,
            "rollbackInfo": deployment.rollback_info,
        }
        view.update({key: value for key, value in optional.items() if value})
    return view


def get_deployment(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    return {"deploymentInfo": deployment_view(state.deployment(request.get("deploymentId")))}


def batch_get_deployments(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    ids = request.get("deploymentIds") or []
    found = [state.deployments.get(i) for i in ids]
    return {"deploymentsInfo": [deployment_view(d) for d in found if d is not None]}


def list_deployments(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    app_name, group_name = request.get("applicationName"), request.get("deploymentGroupName")
    if app_name or group_name:
        state.group(app_name, group_name)
    statuses = request.get("includeOnlyStatuses") or []
    window = request.get("createTimeRange") or {}
    chosen = []
    for deployment in list(state.deployments.values()):  # the engine adds rollbacks meanwhile
        if app_name and (deployment.application_name, deployment.group_name) != (
            app_name,
            group_name,
        ):
            continue
        if statuses and deployment.status not in statuses:
            continue
        if window.get("start") and deployment.create_time < window["start"]:
            continue
        if window.get("end") and deployment.create_time > window["end"]:
            continue
        chosen.append(deployment)
    chosen.sort(key=lambda d: d.create_time, reverse=True)
    return {"deployments": [d.deployment_id for d in chosen]}


def stop_deployment(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    deployment = state.deployment(request.get("deploymentId"))
    with deployment.lock:
        if deployment.status in model.FINAL_STATUSES:
            raise ServiceError(
                "DeploymentAlreadyCompletedException",
                f"The deployment {deployment.deployment_id} has already completed.",
            )
        deployment.stop_rollback = bool(request.get("autoRollbackEnabled"))
        deployment.stop_error = {
            "code": "MANUAL_STOP",
            "message": "The deployment was stopped by a StopDeployment request.",
        }
        deployment.stop_requested.set()
    return {"status": "Pending", "statusMessage": "Stopping the deployment."}


def _record(state: RegionState, deployment_id: str | None, target_id: str | None) -> Any:
    deployment = state.deployment(deployment_id)
    record = deployment.instances.get(target_id or "")
    if record is None:
        raise ServiceError(
            "DeploymentTargetDoesNotExistException",
            f"The deployment target {target_id} does not exist in deployment {deployment_id}.",
        )
    return deployment, record


def _target_view(deployment: model.Deployment, record: model.InstanceRecord) -> dict[str, Any]:
    with deployment.lock:
        return {
            "deploymentTargetType": "InstanceTarget",
            "instanceTarget": {
                "deploymentId": deployment.deployment_id,
                "targetId": record.instance_id,
                "targetArn": record.arn,
                "status": record.status,
                "lastUpdatedAt": record.last_updated,
                "lifecycleEvents": [event.view() for event in record.events],
                "instanceLabel": "Blue",
            },
        }


def list_deployment_targets(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    deployment = state.deployment(request.get("deploymentId"))
    statuses = (request.get("targetFilters") or {}).get("TargetStatus") or []
    return {"targetIds": _instance_ids(deployment, statuses)}


def batch_get_deployment_targets(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    targets = []
    for target_id in request.get("targetIds") or []:
        deployment, record = _record(state, request.get("deploymentId"), target_id)
        targets.append(_target_view(deployment, record))
    return {"deploymentTargets": targets}


def get_deployment_target(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    deployment, record = _record(state, request.get("deploymentId"), request.get("targetId"))
    return {"deploymentTarget": _target_view(deployment, record)}


def _instance_summary(deployment: model.Deployment, record: model.InstanceRecord) -> dict[str, Any]:
    target = _target_view(deployment, record)["instanceTarget"]
    return {
        "deploymentId": deployment.deployment_id,
        "instanceId": record.instance_id,
        "status": record.status,
        "lastUpdatedAt": record.last_updated,
        "lifecycleEvents": target["lifecycleEvents"],
        "instanceType": "Blue",
    }


def list_deployment_instances(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    deployment = state.deployment(request.get("deploymentId"))
    statuses = request.get("instanceStatusFilter") or []
    return {"instancesList": _instance_ids(deployment, statuses)}


def _instance_ids(deployment: model.Deployment, statuses: list[str]) -> list[str]:
    """The deployment's instances (targets) in one of ``statuses`` (all without any)."""
    with deployment.lock:
        return [
            r.instance_id
            for r in deployment.instances.values()
            if not statuses or r.status in statuses
        ]


def get_deployment_instance(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    deployment = state.deployment(request.get("deploymentId"))
    instance_id = request.get("instanceId")
    record = deployment.instances.get(instance_id or "")
    if record is None:  # the instance calls name their own error, not the target one
        raise ServiceError(
            "InstanceDoesNotExistException",
            f"The instance {instance_id} does not exist in deployment {deployment.deployment_id}.",
        )
    return {"instanceSummary": _instance_summary(deployment, record)}


def batch_get_deployment_instances(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    deployment = state.deployment(request.get("deploymentId"))
    ids = request.get("instanceIds") or []
    if not ids:
        raise ServiceError("InstanceIdRequiredException", "The instance ID was not specified.")
    if len(ids) > BATCH_LIMIT:
        raise ServiceError(
            "BatchLimitExceededException", f"The maximum number of instance IDs is {BATCH_LIMIT}."
        )
    found = [deployment.instances.get(i) for i in ids]
    missing = [i for i, record in zip(ids, found, strict=True) if record is None]
    return {
        "instancesSummary": [_instance_summary(deployment, r) for r in found if r is not None],
        "errorMessage": f"Instances not found in deployment {deployment.deployment_id}: "
        + ", ".join(missing)
        if missing
        else "",
    }


def register_application_revision(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    app = state.application(request.get("applicationName"))
    register(
        state, app, _check_revision(request.get("revision")), description=request.get("description")
    )
    return {}


def get_application_revision(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    app = state.application(request.get("applicationName"))
    revision = _check_revision(request.get("revision"))
    entry = app.revisions.get(model.revision_key(revision))
    if entry is None:
        raise ServiceError(
            "RevisionDoesNotExistException", "No application revision found for revision."
        )
    info = {key: value for key, value in entry.items() if key != "revision"}
    return {"applicationName": app.name, "revision": entry["revision"], "revisionInfo": info}


def list_application_revisions(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    app = state.application(request.get("applicationName"))
    return {"revisions": [entry["revision"] for entry in app.revisions.values()]}


def batch_get_application_revisions(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    app = state.application(request.get("applicationName"))
    revisions = request.get("revisions") or []
    if not revisions:
        raise ServiceError("RevisionRequiredException", "The revision must be specified.")
    if len(revisions) > REVISION_BATCH_LIMIT:
        raise ServiceError(
            "BatchLimitExceededException",
            f"The maximum number of revisions is {REVISION_BATCH_LIMIT}.",
        )
    infos, missing = [], 0
    for revision in revisions:
        entry = app.revisions.get(model.revision_key(revision))
        if entry is None:
            missing += 1
            continue
        generic = {key: value for key, value in entry.items() if key != "revision"}
        infos.append({"revisionLocation": entry["revision"], "genericRevisionInfo": generic})
    return {
        "applicationName": app.name,
        "errorMessage": f"{missing} of the revisions are not registered with {app.name}."
        if missing
        else "",
        "revisions": infos,
    }


HANDLERS: dict[str, control.Handler] = {
    "BatchGetDeploymentInstances": batch_get_deployment_instances,
    "BatchGetApplicationRevisions": batch_get_application_revisions,
    "GetDeployment": get_deployment,
    "BatchGetDeployments": batch_get_deployments,
    "ListDeployments": list_deployments,
    "StopDeployment": stop_deployment,
    "ListDeploymentTargets": list_deployment_targets,
    "BatchGetDeploymentTargets": batch_get_deployment_targets,
    "GetDeploymentTarget": get_deployment_target,
    "ListDeploymentInstances": list_deployment_instances,
    "GetDeploymentInstance": get_deployment_instance,
    "RegisterApplicationRevision": register_application_revision,
    "GetApplicationRevision": get_application_revision,
    "ListApplicationRevisions": list_application_revisions,
}
