"""On-premises instances: registration, tags and listing, as the CodeDeploy API answers them.

A registration names the instance and one IAM identity (a user ARN or an IAM session ARN, never
both); the instance is a deployment target of every group whose on-premises tag filters select
its tags (:mod:`.tagfilters`). Deregistering keeps the record, with its deregistration time, so
Get/BatchGet/List (registrationStatus ``Deregistered``) still show it, as AWS does; deployments
no longer select it. Which machine answers for it is :mod:`.cloud`'s concern. Pure: no LocalStack.
"""

from __future__ import annotations

import re
import secrets
import string
from typing import Any

from xrdeploy_local_cloud.codedeploy import control, model, tagfilters
from xrdeploy_local_cloud.codedeploy.model import RegionState
from xrdeploy_local_cloud.kit import paging
from xrdeploy_local_cloud.kit.errors import ServiceError
from xrdeploy_local_cloud.kit.tags import CODEDEPLOY, tag_list, tags_of

BATCH_LIMIT = 100  # BatchGetOnPremisesInstances: "a maximum of 100"
TAG_LIMIT = 10  # tags per on-premises instance (CodeDeploy quotas)
# The name becomes the local instance's state directory prefix, so path separators and blanks
# are refused; AWS's own limit is not documented beyond "a name".
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+=,:-]{0,99}")
_USER_ARN = re.compile(r"arn:aws:iam::\d{12}:user/(?:[\w+=,.@-]+/)*[\w+=,.@-]+")
_SESSION_ARN = re.compile(r"arn:aws:sts::\d{12}:assumed-role/[\w+=,.@-]+/[\w+=,.@-]+")
STATUSES = ("Registered", "Deregistered")
_SUFFIX_ALPHABET = string.ascii_letters + string.digits


def _arn_suffix() -> str:
    """AWS's instance ARNs end in the name, an underscore and 10 random letters and digits."""
    return "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(10))


def _name(name: Any) -> str:
    if not name:
        raise ServiceError(
            "InstanceNameRequiredException", "An on-premises instance name was not specified."
        )
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ServiceError(
            "InvalidInstanceNameException",
            f"The on-premises instance name {name} was specified in an invalid format.",
        )
    return name


def _names(request: dict[str, Any]) -> list[str]:
    names = request.get("instanceNames") or []
    if not names:
        raise ServiceError(
            "InstanceNameRequiredException", "An on-premises instance name was not specified."
        )
    return [_name(name) for name in names]


def _check_arns(user_arn: Any, session_arn: Any) -> None:
    if user_arn and session_arn:
        raise ServiceError(
            "MultipleIamArnsProvidedException",
            "Both an IAM user ARN and an IAM session ARN were included in the request. "
            "Use only one ARN type.",
        )
    if not user_arn and not session_arn:
        raise ServiceError(
            "IamArnRequiredException",
            "No IAM ARN was included in the request. You must use an IAM session ARN or IAM "
            "user ARN in the request.",
        )
    if user_arn and not _USER_ARN.fullmatch(str(user_arn)):
        raise ServiceError(
            "InvalidIamUserArnException", f"The IAM user ARN {user_arn} is not valid."
        )
    if session_arn and not _SESSION_ARN.fullmatch(str(session_arn)):
        raise ServiceError(
            "InvalidIamSessionArnException", f"The IAM session ARN {session_arn} is not valid."
        )


def _check_unused(state: RegionState, user_arn: Any, session_arn: Any) -> None:
    for other in state.on_premises.values():
        if not other.registered:
            continue
        if user_arn and other.iam_user_arn == user_arn:
            raise ServiceError(
                "IamUserArnAlreadyRegisteredException",
                f"The IAM user ARN {user_arn} is already registered with an on-premises "
                f"instance: {other.name}",
            )
        if session_arn and other.iam_session_arn == session_arn:
            raise ServiceError(
                "IamSessionArnAlreadyRegisteredException",
                f"The IAM session ARN {session_arn} has already been used to register the "
                f"instance {other.name}",
            )


def register(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    name = _name(request.get("instanceName"))
    user_arn, session_arn = request.get("iamUserArn"), request.get("iamSessionArn")
    _check_arns(user_arn, session_arn)
    with state.lock:
        # A deregistered name stays taken: AWS frees it only after a while ("you cannot
        # immediately create another instance with the same name"), the local cloud never.
        if name in state.on_premises:
            raise ServiceError(
                "InstanceNameAlreadyRegisteredException",
                f"The on-premises instance name {name} is already registered.",
            )
        _check_unused(state, user_arn, session_arn)
        state.on_premises[name] = model.OnPremisesInstance(
            name, state.arn(f"instance/{name}_{_arn_suffix()}"), user_arn, session_arn
        )
    return {}


def deregister(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    name = _name(request.get("instanceName"))
    with state.lock:
        instance = state.on_premises.get(name)
        # The API has no not-found error here: deregistering an unknown name changes nothing.
        if instance is not None and instance.registered:
            instance.deregister_time = model.now()
    return {}


def registered(state: RegionState, name: str) -> model.OnPremisesInstance:
    instance = state.on_premises.get(name)
    if instance is None:
        raise ServiceError(
            "InstanceNotRegisteredException",
            f"The on-premises instance {name} is not registered.",
        )
    return instance


def view(instance: model.OnPremisesInstance) -> dict[str, Any]:
    info: dict[str, Any] = {
        "instanceName": instance.name,
        "instanceArn": instance.arn,
        "registerTime": instance.register_time,
        "tags": tag_list(instance.tags, CODEDEPLOY),
    }
    optional = {
        "iamUserArn": instance.iam_user_arn,
        "iamSessionArn": instance.iam_session_arn,
        "deregisterTime": instance.deregister_time,
    }
    info.update({key: value for key, value in optional.items() if value})
    return info


def get(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    return {"instanceInfo": view(registered(state, _name(request.get("instanceName"))))}


def batch_get(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    names = _names(request)
    if len(names) > BATCH_LIMIT:
        raise ServiceError(
            "BatchLimitExceededException", f"The maximum number of names is {BATCH_LIMIT}."
        )
    found = [state.on_premises[name] for name in names if name in state.on_premises]
    return {"instanceInfos": [view(instance) for instance in found]}


def _check_tag_filters(tag_filters: list[dict[str, Any]]) -> None:
    for tag_filter in tag_filters:
        if (tag_filter.get("Type") or "KEY_AND_VALUE") not in tagfilters.FILTER_TYPES:
            raise ServiceError(
                "InvalidTagFilterException",
                f"The tag filter type {tag_filter.get('Type')} is not valid: use KEY_ONLY, "
                "VALUE_ONLY or KEY_AND_VALUE.",
            )


def list_instances(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    status = request.get("registrationStatus")
    if status is not None and status not in STATUSES:
        raise ServiceError(
            "InvalidRegistrationStatusException",
            f"The registration status {status} is not valid: use Registered or Deregistered.",
        )
    tag_filters = request.get("tagFilters") or []
    _check_tag_filters(tag_filters)
    chosen = []
    for instance in list(state.on_premises.values()):
        if status and (status == "Registered") != instance.registered:
            continue
        if tag_filters and not any(tagfilters.matches(f, instance.tags) for f in tag_filters):
            continue
        chosen.append(instance.name)
    names, token = paging.page(sorted(chosen), request)
    return {"instanceNames": names, **({"nextToken": token} if token else {})}


def _tags_and_instances(
    state: RegionState, request: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[model.OnPremisesInstance]]:
    tags = request.get("tags") or []
    if not tags:
        raise ServiceError("TagRequiredException", "A tag was not specified.")
    if any(not tag.get("Key") for tag in tags):
        raise ServiceError("InvalidTagException", "A tag must have a key.")
    return tags, [registered(state, name) for name in _names(request)]


def add_tags(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        tags, instances = _tags_and_instances(state, request)
        added = tags_of(tags, CODEDEPLOY)
        for instance in instances:
            if len({**instance.tags, **added}) > TAG_LIMIT:
                raise ServiceError(
                    "TagLimitExceededException",
                    f"The on-premises instance {instance.name} would have more than "
                    f"{TAG_LIMIT} tags.",
                )
        for instance in instances:
            instance.tags.update(added)
    return {}


def remove_tags(state: RegionState, request: dict[str, Any]) -> dict[str, Any]:
    with state.lock:
        tags, instances = _tags_and_instances(state, request)
        for instance in instances:
            for tag in tags:
                # AWS removes a tag by key and value; a value left out matches any value.
                value = instance.tags.get(tag["Key"])
                if value is not None and tag.get("Value") in (None, value):
                    del instance.tags[tag["Key"]]
    return {}


def selected(state: RegionState, group: model.DeploymentGroup) -> list[model.OnPremisesInstance]:
    """The registered on-premises instances a deployment group targets."""
    with state.lock:
        return [
            instance
            for instance in state.on_premises.values()
            if instance.registered and tagfilters.selects_on_premises(group.settings, instance.tags)
        ]


HANDLERS: dict[str, control.Handler] = {
    "RegisterOnPremisesInstance": register,
    "DeregisterOnPremisesInstance": deregister,
    "GetOnPremisesInstance": get,
    "BatchGetOnPremisesInstances": batch_get,
    "ListOnPremisesInstances": list_instances,
    "AddTagsToOnPremisesInstances": add_tags,
    "RemoveTagsFromOnPremisesInstances": remove_tags,
}
