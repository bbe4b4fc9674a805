"""The checks for requests to the services other than S3.

Resources are the ARNs the services' authorization references give; resource policies are KMS
key policies, Lambda function policies and, for ``sts:AssumeRole``, the role's trust policy.
An operation whose resource is not derived here is checked against ``*``: right for actions
without resource types (``ec2:Describe*``, ``codepipeline:PutJobSuccessResult``, ...); for any
other action iam-simulate cannot evaluate ``*`` as one resource and the guard records the request
as ``unchecked`` instead of guessing.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from localstack.aws.api import RequestContext
from localstack.services.kms.models import deserialize_ciphertext_blob
from localstack.services.lambda_.api_utils import function_locators_from_arn
from localstack.services.lambda_.invocation.models import lambda_stores
from moto.logs.models import logs_backends  # LocalStack's Logs keeps moto's backend

from xrdeploy_local_cloud.codedeploy.store import region_state
from xrdeploy_local_cloud.guards import kms_state, trust
from xrdeploy_local_cloud.iam.checks import (
    Check,
    ContextValues,
    NamedPolicy,
    default_check,
    request_parameters,
)
from xrdeploy_local_cloud.iam.policies import parse_document
from xrdeploy_local_cloud.iam.s3_checks import s3_checks

LAMBDA_ACTIONS = {
    "Invoke": "lambda:InvokeFunction",
    "InvokeAsync": "lambda:InvokeFunction",
    "InvokeWithResponseStream": "lambda:InvokeFunction",
}
# Operations that always succeed for any authenticated caller, as in AWS.
UNAUTHORIZED = {("sts", "GetCallerIdentity")}


def checks_for(context: RequestContext) -> list[Check]:
    """The checks for a request; an empty list means AWS authorizes nothing for it."""
    assert context.service is not None and context.operation is not None
    service = context.service.service_name
    if (service, context.operation.name) in UNAUTHORIZED:
        return []
    builder = BUILDERS.get(service)
    if builder is not None:
        return builder(context)
    return [default_check(context, "*", context.account_id)]


def _sts(context: RequestContext) -> list[Check]:
    request = request_parameters(context)
    role_arn = request.get("RoleArn")
    if context.operation is None or context.operation.name != "AssumeRole" or not role_arn:
        return [default_check(context, "*", context.account_id)]
    document = trust.trust_policy(str(role_arn))
    trust_policy = NamedPolicy(f"trust-policy:{role_arn}", document) if document else None
    values: ContextValues = {}
    if request.get("RoleSessionName"):
        values["sts:RoleSessionName"] = str(request["RoleSessionName"])
    if request.get("ExternalId"):
        values["sts:ExternalId"] = str(request["ExternalId"])
    account = str(role_arn).split(":")[4] if str(role_arn).count(":") >= 5 else context.account_id
    return [Check("sts:AssumeRole", str(role_arn), account, values, trust_policy)]


def _kms(context: RequestContext) -> list[Check]:
    assert context.operation is not None
    request = request_parameters(context)
    operation = context.operation.name
    values = _encryption_context(context, request.get("EncryptionContext"))
    if operation == "ReEncrypt":
        return _kms_key_checks(
            context, "kms:ReEncryptFrom", request.get("SourceKeyId"), values
        ) + _kms_key_checks(context, "kms:ReEncryptTo", request.get("DestinationKeyId"), values)
    key_ref = request.get("KeyId") or request.get("TargetKeyId")
    if key_ref is None and operation == "Decrypt" and request.get("CiphertextBlob"):
        key_ref = _ciphertext_key(request["CiphertextBlob"])
    if key_ref is None:
        return [default_check(context, "*", context.account_id)]
    return _kms_key_checks(context, f"kms:{operation}", key_ref, values)


def _kms_key_checks(
    context: RequestContext, action: str, key_ref: Any, values: ContextValues
) -> list[Check]:
    key = None
    if key_ref:
        key = kms_state.resolve_key(str(key_ref), context.account_id, context.region)
    if key is None:  # KMS answers NotFoundException; nothing to authorize against
        return []
    arn = str(key.metadata["Arn"])
    document = parse_document(key.policy)
    policy = NamedPolicy(f"key-policy:{arn}", document) if document else None
    return [Check(action, arn, arn.split(":")[4], values, policy)]


def _encryption_context(context: RequestContext, encryption_context: Any) -> ContextValues:
    values: ContextValues = {"kms:CallerAccount": context.account_id}
    if isinstance(encryption_context, dict) and encryption_context:
        for name, value in encryption_context.items():
            values[f"kms:EncryptionContext:{name}"] = str(value)
        values["kms:EncryptionContextKeys"] = sorted(encryption_context)
    return values


def _ciphertext_key(blob: Any) -> str | None:
    try:
        data = blob if isinstance(blob, bytes) else base64.b64decode(blob)
        return str(deserialize_ciphertext_blob(data).key_id)
    except Exception:  # not one of LocalStack's ciphertexts: KMS itself will refuse it
        return None


def _lambda(context: RequestContext) -> list[Check]:
    assert context.operation is not None
    request = request_parameters(context)
    action = LAMBDA_ACTIONS.get(context.operation.name, f"lambda:{context.operation.name}")
    reference = request.get("FunctionName")
    if not isinstance(reference, str):
        return [Check(action, "*", context.account_id)]
    name, qualifier, account, region = function_locators_from_arn(reference)
    if name is None:
        return [Check(action, "*", context.account_id)]
    account, region = account or context.account_id, region or context.region
    qualifier = qualifier or request.get("Qualifier")
    arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
    function = lambda_stores[account][region].functions.get(name)
    permissions = function.permissions.get(qualifier or "$LATEST") if function else None
    policy = None
    if permissions is not None:
        statements = permissions.policy.Statement
        document = {"Version": "2012-10-17", "Statement": statements}
        policy = NamedPolicy(f"function-policy:{arn}", document)
    return [Check(action, arn + (f":{qualifier}" if qualifier else ""), account, {}, policy)]


def _logs(context: RequestContext) -> list[Check]:
    request = request_parameters(context)
    group = request.get("logGroupName")
    if not group:
        return [default_check(context, "*", context.account_id)]
    if context.is_internal_call and _log_group_exists(context, str(group)):
        # LocalStack's Lambda log shipping calls CreateLogGroup (with the function's role) for
        # every new stream; AWS Lambda does not when the group exists, so nothing is authorized.
        return []
    arn = f"arn:aws:logs:{context.region}:{context.account_id}:log-group:{group}"
    if request.get("logStreamName"):  # the stream operations authorize on the stream
        arn += f":log-stream:{request['logStreamName']}"
    return [default_check(context, arn, context.account_id)]


def _log_group_exists(context: RequestContext, group: str) -> bool:
    if context.operation is None or context.operation.name != "CreateLogGroup":
        return False
    return group in logs_backends[context.account_id][context.region].groups


def _codepipeline(context: RequestContext) -> list[Check]:
    request = request_parameters(context)
    name = request.get("pipelineName") or request.get("name")
    if not name:
        return [default_check(context, "*", context.account_id)]
    arn = f"arn:aws:codepipeline:{context.region}:{context.account_id}:{name}"
    return [default_check(context, arn, context.account_id)]


def _codedeploy(context: RequestContext) -> list[Check]:
    request = request_parameters(context)
    prefix = f"arn:aws:codedeploy:{context.region}:{context.account_id}"
    app, group = request.get("applicationName"), request.get("deploymentGroupName")
    config = request.get("deploymentConfigName")
    # On-premises instance calls authorize on each instance named; the authorization reference's
    # resource is instance:<name>, not the instanceArn the API answers (instance/<name>_<suffix>).
    instances = request.get("instanceNames") or [request.get("instanceName")]
    if not app and any(instances):
        arns = [f"{prefix}:instance:{name}" for name in instances if name]
        return [default_check(context, arn, context.account_id) for arn in arns]
    if request.get("deploymentId") and not app:  # GetDeployment, StopDeployment, ...
        app, group = _deployment_group(context, str(request["deploymentId"]))
    if app and group:
        resource = f"{prefix}:deploymentgroup:{app}/{group}"
    elif app:
        resource = f"{prefix}:application:{app}"
    elif config:
        resource = f"{prefix}:deploymentconfig:{config}"
    else:
        resource = "*"
    return [default_check(context, resource, context.account_id)]


def _deployment_group(context: RequestContext, deployment_id: str) -> tuple[Any, Any]:
    """The application and group of a deployment (AWS authorizes on its deployment group)."""
    deployment = region_state(context.account_id, context.region).deployments.get(deployment_id)
    if deployment is None:  # CodeDeploy answers DeploymentDoesNotExistException
        return None, None
    return deployment.application_name, deployment.group_name


BUILDERS: dict[str, Callable[[RequestContext], list[Check]]] = {
    "s3": s3_checks,
    "sts": _sts,
    "kms": _kms,
    "lambda": _lambda,
    "logs": _logs,
    "codepipeline": _codepipeline,
    "codedeploy": _codedeploy,
}
