"""The ledger's HTTP API on LocalStack's gateway (see :mod:`.ledger` for the answer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from localstack.http import Request, route

from xrdeploy_localstack.iam.ledger import Ledger

LEDGER_PATH = "/_xrdeploy/permissions"


class LedgerApi:
    """``GET``/``DELETE LEDGER_PATH`` on LocalStack's gateway."""

    def __init__(self, ledger: Ledger, stats: Callable[[], dict[str, Any]]) -> None:
        self._ledger = ledger
        self._stats = stats

    @route(LEDGER_PATH, methods=["GET"])
    def list_permissions(self, request: Request) -> dict[str, Any]:
        return {"principals": self._ledger.to_json(), "evaluator": self._stats()}

    @route(LEDGER_PATH, methods=["DELETE"])
    def clear_permissions(self, request: Request) -> dict[str, Any]:
        return {"cleared": self._ledger.clear()}
