"""LocalStack Extension ``xrdeploy-guards``: AWS behaviour the community runtime lacks, plus faults.

One request handler runs for every parsed AWS request, before LocalStack's service provider:

1. fault injection (:mod:`.faults`), for requests from clients;
2. trust policies on ``sts:AssumeRole`` (:mod:`.trust`), and trust policies
   naming only roles and users that exist (:mod:`.principals`), unless
   ``XRDEPLOY_ENFORCE_TRUST=0``;
3. KMS key state for SSE-KMS reads and writes in S3 (:mod:`.kms_state`),
   unless ``XRDEPLOY_ENFORCE_KMS_STATE=0``;
4. IAM policies for requests of role sessions and IAM users (:mod:`xrdeploy_local_cloud.iam`),
   unless ``XRDEPLOY_ENFORCE_IAM=0``; its decisions are served at ``/_xrdeploy/permissions``.

``GET GUARDS_PATH`` on the gateway reports the switches, so a launcher can tell that the extension
is loaded and how. The switches can change while LocalStack runs (``/_xrdeploy/settings``,
:mod:`xrdeploy_local_cloud.settings.api`); IAM enforcement can be switched on at run time only when
LocalStack started with it, since its evaluator starts with LocalStack.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping
from typing import Any

from localstack.aws.api import RequestContext
from localstack.aws.chain import CompositeHandler
from localstack.extensions.api import Extension
from localstack.http import Request, Router, route
from rolo import Response  # the chain's handler protocol is typed with rolo's own Response
from rolo.gateway import HandlerChain

from xrdeploy_local_cloud.guards import kms_state, principals, trust
from xrdeploy_local_cloud.guards.faults import FaultRegistry, FaultsApi
from xrdeploy_local_cloud.iam.api import LedgerApi
from xrdeploy_local_cloud.iam.evaluator import Evaluator, evaluator_command
from xrdeploy_local_cloud.iam.guard import IamGuard
from xrdeploy_local_cloud.iam.ledger import Ledger
from xrdeploy_local_cloud.settings.api import SettingsApi
from xrdeploy_local_cloud.settings.store import STORE

LOG = logging.getLogger(__name__)

EXTENSION_NAME = "xrdeploy-guards"
GUARDS_PATH = "/_xrdeploy/guards"
ENFORCE_TRUST_ENV = "XRDEPLOY_ENFORCE_TRUST"
ENFORCE_KMS_STATE_ENV = "XRDEPLOY_ENFORCE_KMS_STATE"
ENFORCE_IAM_ENV = "XRDEPLOY_ENFORCE_IAM"
_ON = ("1", "true", "yes", "on")
_OFF = ("0", "false", "no", "off")


@dataclasses.dataclass(frozen=True)
class GuardSettings:
    enforce_trust: bool = True
    enforce_kms_state: bool = True
    enforce_iam: bool = True

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> GuardSettings:
        return cls(
            enforce_trust=_switch(environ, ENFORCE_TRUST_ENV),
            enforce_kms_state=_switch(environ, ENFORCE_KMS_STATE_ENV),
            enforce_iam=_switch(environ, ENFORCE_IAM_ENV),
        )


def _switch(environ: Mapping[str, str], name: str) -> bool:
    value = environ.get(name, "1").strip().lower()
    if value in _ON:
        return True
    if value in _OFF:
        return False
    raise ValueError(f"{name}={value!r} is not a switch; set it to 1 or 0")


class GuardsApi:
    def __init__(self, extension: GuardsExtension) -> None:
        self._extension = extension

    @route(GUARDS_PATH, methods=["GET"])
    def describe(self, request: Request) -> dict[str, Any]:
        return dataclasses.asdict(self._extension.settings)


class GuardsExtension(Extension):
    """Registered in entry-point group ``localstack.extensions`` as ``xrdeploy-guards``."""

    name = EXTENSION_NAME

    def __init__(self) -> None:
        super().__init__()
        self.settings = GuardSettings()
        self.faults = FaultRegistry()
        self.iam: IamGuard | None = None

    def on_extension_load(self) -> None:
        # os.environ is LocalStack's environment, which the launcher composes.
        self.settings = GuardSettings.from_environment(os.environ)
        if self.settings.enforce_iam:  # a missing evaluator fails LocalStack's start
            self.iam = IamGuard(Evaluator(evaluator_command(os.environ)), Ledger())
            self.iam.evaluator.start()
        STORE.subscribe(self.switch)
        LOG.info("xrdeploy guards: %s", self.settings)

    def switch(self, environ: Mapping[str, str]) -> None:
        """Take the switches of a run-time settings change; ValueError refuses it."""
        settings = GuardSettings.from_environment(environ)
        if settings.enforce_iam and self.iam is None:
            raise ValueError(
                f"enforce_iam: this local cloud started with {ENFORCE_IAM_ENV}=0, so its IAM "
                "evaluator is not running; restart it without that setting to enforce IAM"
            )
        self.settings = settings
        LOG.info("xrdeploy guards: %s", self.settings)

    def on_platform_shutdown(self) -> None:
        if self.iam is not None:
            self.iam.evaluator.close()

    def update_gateway_routes(self, router: Router[Any]) -> None:
        router.add(FaultsApi(self.faults))
        router.add(SettingsApi(STORE))
        router.add(GuardsApi(self))
        if self.iam is not None:
            router.add(LedgerApi(self.iam.ledger, self.iam.evaluator.stats))

    def update_request_handlers(self, handlers: CompositeHandler) -> None:
        handlers.append(self.guard)

    def guard(
        self, chain: HandlerChain[RequestContext], context: RequestContext, response: Response
    ) -> None:
        operation = context.service_operation
        if operation is None:
            return
        if not context.is_internal_call:
            self.faults.apply(context)
        if self.settings.enforce_trust and operation == ("sts", "AssumeRole"):
            trust.check_assume_role(context)  # also LocalStack's calls for a service
        if (
            self.settings.enforce_trust
            and operation.service == "iam"
            and operation.operation in principals.TRUST_POLICY_PARAMETER
        ):
            principals.check_trust_policy(context)
        if (
            self.settings.enforce_kms_state
            and operation.service == "s3"
            and not context.is_internal_call
        ):
            kms_state.check(context)
        if self.iam is not None and self.settings.enforce_iam:
            self.iam.check(context)
