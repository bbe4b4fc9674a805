"""Control plane: applications, deployment groups, deployment configs and tags.

Answers as AWS does, defaults included, so Terraform's AWS provider reads back what it wrote:
a group always has a ``deploymentStyle`` (IN_PLACE, WITHOUT_TRAFFIC_CONTROL by default),
``loadBalancerInfo`` only when it names a load balancer, ``alarmConfiguration`` and the tag
filters as lists even when empty.
"""

from __future__ import annotations

import uuid
from typing import Any

from xrdeploy_local_cloud.codedeploy import configs, model, tagfilters
from xrdeploy_local_cloud.codedeploy.model import RegionState
from xrdeploy_local_cloud.kit import dispatch
from xrdeploy_local_cloud.kit.errors import ServiceError
from xrdeploy_local_cloud.kit.tags import CODEDEPLOY, tag_list, tags_of

Handler = dispatch.Handler[RegionState]
DEFAULT_CONFIG = "CodeDeployDefault.OneAtATime"
# Fields of CreateDeploymentGroup kept as given and answered back by GetDeploymentGroup.
GROUP_FIELDS = (
    "deploymentConfigName",
    "ec2TagFilters",
    "onPremisesInstanceTagFilters",
    "autoScalingGroups",
    "serviceRoleArn",
    "triggerConfigurations",
    "alarmConfiguration",
    "autoRollbackConfiguration",
    "outdatedInstancesStrategy",
    "deploymentStyle",
    "blueGreenDeploymentConfiguration",
    "loadBalancerInfo",
    "ec2TagSet",
    "ecsServices",
    "onPremisesTagSet",
    "terminationHookEnabled",
)
_DEFAULT_STYLE = {"deploymentType": "IN_PLACE", "deploymentOption": "WITHOUT_TRAFFIC_CONTROL"}


def _check_role(role_arn: str | None) -> None:
    from xrdeploy_local_cloud.codedeploy import roles  # LocalStack's IAM: imported where it runs

    roles.check_service_role(role_arn)


def _add_tags(state: RegionState, arn: str, tags: list[dict[str, str]] | None) -> None:
    state.tags.setdefault(arn, {}).update(tags_of(tags, CODEDEPLOY))


def create_application(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    name = request.get("applicationName")
    with state.lock:
        if name in state.applications:
            raise ServiceError(
                "ApplicationAlreadyExistsException", f"The application {name} already exists."
            )
        if not name:
            state.application(name)  # raises ApplicationNameRequiredException
        app = model.Application(str(name), request.get("computePlatform") or "Server")
        state.applications[app.name] = app
        _add_tags(state, state.arn(f"application:{app.name}"), request.get("tags"))
    return {"applicationId": app.application_id}


def _application_view(app: model.Application) -> dict[str, Any]:
    return {
        "applicationId": app.application_id,
        "applicationName": app.name,
        "createTime": app.create_time,
        "linkedToGitHub": False,
        "computePlatform": app.compute_platform,
    }


def get_application(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    return {"application": _application_view(state.application(request.get("applicationName")))}


def batch_get_applications(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    names = request.get("applicationNames") or []
    return {"applicationsInfo": [_application_view(state.application(n)) for n in names]}


def list_applications(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    return {"applications": sorted(state.applications)}


def update_application(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        app = state.application(request.get("applicationName"))
        new_name = request.get("newApplicationName")
        if new_name and new_name != app.name:
            if new_name in state.applications:
                raise ServiceError(
                    "ApplicationAlreadyExistsException",
                    f"The application {new_name} already exists.",
                )
            old_arn = state.arn(f"application:{app.name}")
            del state.applications[app.name]
            for key in [key for key in state.groups if key[0] == app.name]:
                group = state.groups.pop(key)
                group.application_name = new_name
                state.groups[(new_name, group.name)] = group
            app.name = new_name
            state.applications[new_name] = app
            state.tags[state.arn(f"application:{new_name}")] = state.tags.pop(old_arn, {})
    return {}


def delete_application(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        app = state.application(request.get("applicationName"))
        for key in [key for key in state.groups if key[0] == app.name]:
            del state.groups[key]
            state.tags.pop(state.arn(f"deploymentgroup:{key[0]}/{key[1]}"), None)
        del state.applications[app.name]
        state.tags.pop(state.arn(f"application:{app.name}"), None)
    return {}


def _group_settings(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    settings = {field: request[field] for field in GROUP_FIELDS if field in request}
    tagfilters.check(settings)
    if "deploymentConfigName" in settings:
        state.config(settings["deploymentConfigName"])
    return settings


def create_deployment_group(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    app_name, name = request.get("applicationName"), request.get("deploymentGroupName")
    with state.lock:
        app = state.application(app_name)
        if not name:
            state.group(app.name, name)  # raises DeploymentGroupNameRequiredException
        if (app.name, name) in state.groups:
            raise ServiceError(
                "DeploymentGroupAlreadyExistsException",
                f"A deployment group named {name} already exists for this application.",
            )
        settings = _group_settings(state, request)
        _check_role(request.get("serviceRoleArn"))
        group = model.DeploymentGroup(app.name, str(name), settings)
        group.compute_platform = app.compute_platform
        state.groups[(app.name, group.name)] = group
        _add_tags(state, state.arn(f"deploymentgroup:{app.name}/{group.name}"), request.get("tags"))
    return {"deploymentGroupId": group.group_id}


def _summary(state: RegionState, deployment_id: str | None) -> dict[str, Any] | None:
    deployment = state.deployments.get(deployment_id or "")
    if deployment is None:
        return None
    summary = {
        "deploymentId": deployment.deployment_id,
        "status": deployment.status,
        "createTime": deployment.create_time,
    }
    if deployment.complete_time:
        summary["endTime"] = deployment.complete_time
    return summary


def group_view(state: RegionState, group: model.DeploymentGroup) -> dict[str, Any]:
    settings = group.settings
    view: dict[str, Any] = {
        "applicationName": group.application_name,
        "deploymentGroupId": group.group_id,
        "deploymentGroupName": group.name,
        "deploymentConfigName": settings.get("deploymentConfigName") or DEFAULT_CONFIG,
        "ec2TagFilters": settings.get("ec2TagFilters") or [],
        "onPremisesInstanceTagFilters": settings.get("onPremisesInstanceTagFilters") or [],
        "autoScalingGroups": [{"name": n} for n in settings.get("autoScalingGroups") or []],
        "serviceRoleArn": settings.get("serviceRoleArn"),
        "triggerConfigurations": settings.get("triggerConfigurations") or [],
        "alarmConfiguration": {
            "enabled": False,
            "ignorePollAlarmFailure": False,
            "alarms": [],
            **(settings.get("alarmConfiguration") or {}),
        },
        "deploymentStyle": {**_DEFAULT_STYLE, **(settings.get("deploymentStyle") or {})},
        "outdatedInstancesStrategy": settings.get("outdatedInstancesStrategy") or "UPDATE",
        "computePlatform": group.compute_platform,
        "terminationHookEnabled": bool(settings.get("terminationHookEnabled")),
    }
    for field in ("autoRollbackConfiguration", "blueGreenDeploymentConfiguration", "ec2TagSet"):
        if settings.get(field):
            view[field] = settings[field]
    for field in ("ecsServices", "onPremisesTagSet"):
        if settings.get(field):
            view[field] = settings[field]
    lb = settings.get("loadBalancerInfo") or {}
    if any(
        lb.get(key) for key in ("elbInfoList", "targetGroupInfoList", "targetGroupPairInfoList")
    ):
        view["loadBalancerInfo"] = lb
    for key, deployment_id in (
        ("lastSuccessfulDeployment", group.last_successful),
        ("lastAttemptedDeployment", group.last_attempted),
    ):
        summary = _summary(state, deployment_id)
        if summary:
            view[key] = summary
    last = state.deployments.get(group.last_successful or "")
    if last is not None:
        view["targetRevision"] = last.revision
    return view


def get_deployment_group(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    group = state.group(request.get("applicationName"), request.get("deploymentGroupName"))
    return {"deploymentGroupInfo": group_view(state, group)}


def batch_get_deployment_groups(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    app = state.application(request.get("applicationName"))
    names = request.get("deploymentGroupNames") or []
    found = [state.groups.get((app.name, name)) for name in names]
    missing = [name for name, group in zip(names, found, strict=True) if group is None]
    return {
        "deploymentGroupsInfo": [group_view(state, g) for g in found if g is not None],
        "errorMessage": f"Deployment groups not found: {', '.join(missing)}" if missing else "",
    }


def list_deployment_groups(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    app = state.application(request.get("applicationName"))
    names = sorted(name for app_name, name in state.groups if app_name == app.name)
    return {"applicationName": app.name, "deploymentGroups": names}


def update_deployment_group(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    app_name = request.get("applicationName")
    with state.lock:
        group = state.group(app_name, request.get("currentDeploymentGroupName"))
        settings = _group_settings(state, request)
        if "serviceRoleArn" in settings:
            _check_role(settings["serviceRoleArn"])
        new_name = request.get("newDeploymentGroupName")
        if new_name and new_name != group.name:
            if (group.application_name, new_name) in state.groups:
                raise ServiceError(
                    "DeploymentGroupAlreadyExistsException",
                    f"A deployment group named {new_name} already exists for this application.",
                )
            old_arn = state.arn(f"deploymentgroup:{group.application_name}/{group.name}")
            del state.groups[(group.application_name, group.name)]
            group.name = new_name
            state.groups[(group.application_name, new_name)] = group
            new_arn = state.arn(f"deploymentgroup:{group.application_name}/{new_name}")
            state.tags[new_arn] = state.tags.pop(old_arn, {})
        group.settings.update(settings)
    return {"hooksNotCleanedUp": []}


def delete_deployment_group(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        group = state.group(request.get("applicationName"), request.get("deploymentGroupName"))
        del state.groups[(group.application_name, group.name)]
        state.tags.pop(state.arn(f"deploymentgroup:{group.application_name}/{group.name}"), None)
    return {"hooksNotCleanedUp": []}


def create_deployment_config(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    name = str(request.get("deploymentConfigName") or "")
    minimum = request.get("minimumHealthyHosts") or {}
    if not name:
        state.config(name)  # raises DeploymentConfigNameRequiredException
    if name in configs.BUILT_IN or name in state.custom_configs:
        raise ServiceError(
            "DeploymentConfigAlreadyExistsException",
            f"A deployment configuration named {name} already exists.",
        )
    kind, value = minimum.get("type"), minimum.get("value")
    platform = request.get("computePlatform") or "Server"
    if platform == "Server" and (
        kind not in ("HOST_COUNT", "FLEET_PERCENT")
        or not isinstance(value, int)
        or value < 0
        or (kind == "FLEET_PERCENT" and value > 99)
    ):
        raise ServiceError(
            "InvalidMinimumHealthyHostValueException",
            "The minimum healthy instance value must be a HOST_COUNT of 0 or more or a "
            "FLEET_PERCENT between 0 and 99.",
        )
    config = configs.DeploymentConfig(
        name, str(uuid.uuid4()), str(kind), int(value or 0), model.now(), platform
    )
    state.custom_configs[name] = config
    return {"deploymentConfigId": config.config_id}


def get_deployment_config(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    return {"deploymentConfigInfo": state.config(request.get("deploymentConfigName")).view()}


def list_deployment_configs(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    return {"deploymentConfigsList": [*configs.BUILT_IN, *sorted(state.custom_configs)]}


def delete_deployment_config(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    name = request.get("deploymentConfigName")
    config = state.config(name)
    if config.name in configs.BUILT_IN:
        raise ServiceError(
            "InvalidOperationException", "A predefined deployment configuration cannot be deleted."
        )
    if any(g.settings.get("deploymentConfigName") == name for g in state.groups.values()):
        raise ServiceError(
            "DeploymentConfigInUseException", f"The deployment configuration {name} is in use."
        )
    del state.custom_configs[config.name]
    return {}


def _tagged(state: RegionState, arn: str | None) -> str:
    prefix = state.arn("")
    resource = (arn or "")[len(prefix) :] if (arn or "").startswith(prefix) else ""
    if resource.startswith("application:") and resource[12:] in state.applications:
        return str(arn)
    if resource.startswith("deploymentgroup:"):
        app, _, group = resource[16:].partition("/")
        if (app, group) in state.groups:
            return str(arn)
    raise ServiceError(
        "ResourceArnRequiredException" if not arn else "InvalidArnException",
        f"The ARN {arn} is not valid or does not name an existing resource.",
    )


def tag_resource(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    _add_tags(state, _tagged(state, request.get("ResourceArn")), request.get("Tags"))
    return {}


def untag_resource(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    tags = state.tags.setdefault(_tagged(state, request.get("ResourceArn")), {})
    for key in request.get("TagKeys") or []:
        tags.pop(key, None)
    return {}


def list_tags_for_resource(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    arn = _tagged(state, request.get("ResourceArn"))
    return {"Tags": tag_list(state.tags.get(arn, {}), CODEDEPLOY)}


HANDLERS: dict[str, Handler] = {
    "CreateApplication": create_application,
    "GetApplication": get_application,
    "BatchGetApplications": batch_get_applications,
    "ListApplications": list_applications,
    "UpdateApplication": update_application,
    "DeleteApplication": delete_application,
    "CreateDeploymentGroup": create_deployment_group,
    "GetDeploymentGroup": get_deployment_group,
    "BatchGetDeploymentGroups": batch_get_deployment_groups,
    "ListDeploymentGroups": list_deployment_groups,
    "UpdateDeploymentGroup": update_deployment_group,
    "DeleteDeploymentGroup": delete_deployment_group,
    "CreateDeploymentConfig": create_deployment_config,
    "GetDeploymentConfig": get_deployment_config,
    "ListDeploymentConfigs": list_deployment_configs,
    "DeleteDeploymentConfig": delete_deployment_config,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
