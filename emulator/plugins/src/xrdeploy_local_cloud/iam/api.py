"""The ledger's HTTP API on LocalStack's gateway (see :mod:`.ledger` and :mod:`.recording` for
the answers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from localstack.http import Request, route

from xrdeploy_local_cloud.iam.ledger import Ledger

LEDGER_PATH = "/_xrdeploy/permissions"
REQUESTS_PATH = f"{LEDGER_PATH}/requests"


class LedgerApi:
    """``GET``/``DELETE LEDGER_PATH`` and ``GET REQUESTS_PATH`` on LocalStack's gateway."""

    def __init__(self, ledger: Ledger, stats: Callable[[], dict[str, Any]]) -> None:
        self._ledger = ledger
        self._stats = stats

    @route(LEDGER_PATH, methods=["GET"])
    def list_permissions(self, request: Request) -> dict[str, Any]:
        return {"principals": self._ledger.to_json(), "evaluator": self._stats()}

    @route(LEDGER_PATH, methods=["DELETE"])
    def clear_permissions(self, request: Request) -> dict[str, Any]:
        return {"cleared": self._ledger.clear()}

    @route(REQUESTS_PATH, methods=["GET"])
    def list_requests(self, request: Request) -> dict[str, Any]:
        return self._ledger.requests.to_json()
