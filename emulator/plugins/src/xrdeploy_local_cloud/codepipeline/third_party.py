"""The third-party job calls: what a partner's job worker (a ThirdParty action type) calls.

The local engine dispatches no third-party jobs (no partner is connected to the local cloud:
a ThirdParty action fails with ``ConfigurationError``), so PollForThirdPartyJobs answers an
empty list for a ThirdParty type and the calls on a job answer ``JobNotFoundException``, as AWS
does for a job id it does not know; the requests are validated as the API reference says.
"""

from __future__ import annotations

from typing import Any

from xrdeploy_local_cloud.codepipeline import catalogue
from xrdeploy_local_cloud.codepipeline.errors import validation
from xrdeploy_local_cloud.codepipeline.stores import State
from xrdeploy_local_cloud.kit.errors import ServiceError

Request = dict[str, Any]


def poll_for_third_party_jobs(state: State, request: Request) -> dict[str, Any]:
    type_id = request["actionTypeId"]
    builtin = catalogue.find(
        type_id["category"], type_id["owner"], type_id["provider"], type_id["version"]
    )
    if builtin is None or builtin.owner != "ThirdParty":
        raise ServiceError(
            "ActionTypeNotFoundException",
            f"Action type {type_id['category']}/{type_id['owner']}/{type_id['provider']}/"
            f"{type_id['version']} does not exist",
        )
    if int(request.get("maxBatchSize") or 1) < 1:
        raise validation("maxBatchSize must be at least 1")
    return {"jobs": []}


def _job_call(state: State, request: Request) -> dict[str, Any]:
    if not request.get("clientToken"):
        raise ServiceError(
            "InvalidClientTokenException", "The client token was specified in an invalid format"
        )
    raise ServiceError("JobNotFoundException", f"Job with id {request['jobId']} does not exist")


acknowledge_third_party_job = _job_call
get_third_party_job_details = _job_call
put_third_party_job_success_result = _job_call
put_third_party_job_failure_result = _job_call
