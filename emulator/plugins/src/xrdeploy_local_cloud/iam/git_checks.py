"""The checks for requests to CodeCommit and to connections (CodeConnections and CodeStar
Connections): the resources their authorization references give.

* CodeCommit authorizes on the repository, ``arn:aws:codecommit:<region>:<account>:<name>``
  (``repositoryName``, or ``resourceArn`` for the tag operations); ListRepositories has none.
* Connections authorize on the connection's ARN (``ConnectionArn``, or ``ResourceArn`` for the
  tag operations), whose prefix is the API's; CreateConnection and ListConnections have none.
"""

from __future__ import annotations

from localstack.aws.api import RequestContext

from xrdeploy_local_cloud.iam.checks import Check, default_check, request_parameters


def codecommit_checks(context: RequestContext) -> list[Check]:
    request = request_parameters(context)
    name, arn = request.get("repositoryName"), request.get("resourceArn")
    if arn:
        resource = str(arn)
    elif name:
        resource = f"arn:aws:codecommit:{context.region}:{context.account_id}:{name}"
    else:
        resource = "*"
    return [default_check(context, resource, _account_of(resource, context.account_id))]


def connection_checks(context: RequestContext) -> list[Check]:
    request = request_parameters(context)
    resource = str(request.get("ConnectionArn") or request.get("ResourceArn") or "*")
    return [default_check(context, resource, _account_of(resource, context.account_id))]


def _account_of(arn: str, caller_account: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4] else caller_account
