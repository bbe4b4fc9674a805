"""IAM enforcement: every request of a role session or IAM user judged as AWS judges it.

For each request :func:`IamGuard.check` finds the principal (:mod:`.policies`), the checks AWS
makes (:mod:`.service_checks`, :mod:`.s3_checks`), and asks the evaluator
(:mod:`.evaluator`, ``@cloud-copilot/iam-simulate``) for each with the principal's identity
policies, its permissions boundary and the resource's policy. iam-simulate applies AWS's rules:
an explicit deny wins; within one account an allow in either the identity or the resource policy
is enough (KMS key policies and role trust policies must allow themselves, or delegate to the
account); across accounts both sides must allow. The first denied check raises the service's
``AccessDenied`` (:mod:`.messages`). Every decision goes to the :class:`.ledger.Ledger`.

Judged also: LocalStack's own calls made with a role's credentials (our CodePipeline acting as
the pipeline role, CodeDeploy fetching a bundle with the instance role), as AWS judges them.
Not judged: an account's root (any access key LocalStack did not issue), LocalStack's calls as
a service itself (a ``service_principal``, e.g. Lambda fetching its function's credentials),
and requests the evaluator cannot judge (recorded as ``unchecked``).

The inputs of every evaluation are recorded as well (:mod:`.recording`), for the least-privilege
replay; so is a service principal's ``sts:AssumeRole`` with the role's trust policy, evaluated
for the record only (:mod:`xrdeploy_local_cloud.guards.trust` is what enforces it).
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from localstack.aws.api import RequestContext

from xrdeploy_local_cloud.guards import trust
from xrdeploy_local_cloud.iam.checks import Check, NamedPolicy, Principal, global_context
from xrdeploy_local_cloud.iam.evaluator import Evaluator, EvaluatorUnavailable
from xrdeploy_local_cloud.iam.ledger import Ledger
from xrdeploy_local_cloud.iam.messages import access_denied, denial_reason, message
from xrdeploy_local_cloud.iam.policies import identity_policies, principal_of
from xrdeploy_local_cloud.iam.recording import request_inputs
from xrdeploy_local_cloud.iam.service_checks import checks_for
from xrdeploy_local_cloud.iam.simulation import (
    Statement,
    denials,
    grants,
    simulation,
    statements_of,
)

LOG = logging.getLogger(__name__)


class IamGuard:
    def __init__(self, evaluator: Evaluator, ledger: Ledger) -> None:
        self.evaluator = evaluator
        self.ledger = ledger

    def check(self, context: RequestContext) -> None:
        """Raise AWS's access-denied error unless every check of the request is allowed."""
        if context.service is None:
            return
        principal = principal_of(context)
        if principal is None:
            self._record_service_assumption(context)
            return
        checks = checks_for(context)
        if not checks:
            return
        identity, boundary = identity_policies(principal)
        summary = statements_of(identity)
        base = global_context(context, principal)
        for check in checks:
            answer = self.evaluator.evaluate(simulation(principal, check, identity, boundary, base))
            inputs = request_inputs(principal, check, identity, boundary, base)
            self.ledger.requests.record(inputs, _decision(answer))
            self._judge(context.service.service_name, principal, check, answer, summary)

    def _record_service_assumption(self, context: RequestContext) -> None:
        """A service assuming a role: recorded with its trust policy, never refused here."""
        params = context.internal_request_params
        service = params.get("service_principal") if params else None
        role_arn = (context.service_request or {}).get("RoleArn")
        if context.service_operation != ("sts", "AssumeRole") or not service or not role_arn:
            return
        if str(role_arn).count(":") < 5:  # not an ARN: STS refuses it
            return
        service = service if "." in service else f"{service}.amazonaws.com"
        principal = Principal(service, service, "", "service", service)
        document = trust.trust_policy(str(role_arn))
        policy = NamedPolicy(f"trust-policy:{role_arn}", document) if document else None
        check = Check("sts:AssumeRole", str(role_arn), str(role_arn).split(":")[4], {}, policy)
        base = {"aws:SecureTransport": "true", "aws:PrincipalServiceName": service}
        inputs = request_inputs(principal, check, [], [], base)
        if self.ledger.requests.bump(inputs):  # judged once per distinct input: it is a record
            return
        try:
            answer = self.evaluator.evaluate(simulation(principal, check, [], [], base))
        except EvaluatorUnavailable as e:  # the record must never fail the service's call
            LOG.warning("IAM: trust of %s for %s not recorded: %s", role_arn, service, e)
            return
        self.ledger.requests.record(inputs, _decision(answer))

    def _judge(
        self,
        service: str,
        principal: Principal,
        check: Check,
        answer: dict[str, Any],
        summary: list[Statement],
    ) -> None:
        record = functools.partial(
            self.ledger.record,
            principal=principal.principal_arn,
            kind=principal.kind,
            session=principal.arn,
            action=check.action,
            resource=check.resource,
            policies=summary,
        )
        if "error" in answer:
            LOG.info("IAM: %s on %s unchecked: %s", check.action, check.resource, answer["error"])
            record(decision="unchecked", reason=str(answer["error"]))
            return
        if answer.get("result") == "Allowed":
            record(decision="allowed", statements=grants(answer, check))
            return
        reason = denial_reason({**answer, "action": check.action})
        record(decision="denied", reason=reason, statements=denials(answer, check))
        raise access_denied(service, message(principal.arn, check.action, check.resource, reason))


def _decision(answer: dict[str, Any]) -> str:
    if "error" in answer:
        return "unchecked"
    return "allowed" if answer.get("result") == "Allowed" else "denied"
