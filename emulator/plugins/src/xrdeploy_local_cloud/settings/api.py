"""The HTTP API of the run-time settings (:mod:`xrdeploy_local_cloud.settings.store`).

Served on LocalStack's gateway at ``SETTINGS_PATH``, beside the fault injector:

* ``GET`` answers every setting with its current value (null: not set, the AWS behaviour);
* ``PATCH`` a JSON object of some settings, e.g. ``{"codepipeline_wait_scale": 0.05}``, changes
  them (null puts one back to its start value) and answers every setting; an unknown name or a
  bad value is refused with 400 and the reason, and nothing changes;
* ``DELETE`` puts every setting back to the value LocalStack started with, answering them all.
"""

from __future__ import annotations

import json
from typing import Any

from localstack.http import Request, route
from rolo import Response  # what Response.for_json is typed to return

from xrdeploy_local_cloud.settings.store import RuntimeSettings

SETTINGS_PATH = "/_xrdeploy/settings"


class SettingsApi:
    def __init__(self, store: RuntimeSettings) -> None:
        self._store = store

    @route(SETTINGS_PATH, methods=["GET"])
    def describe(self, request: Request) -> dict[str, Any]:
        return self._store.describe()

    @route(SETTINGS_PATH, methods=["PATCH"])
    def update(self, request: Request) -> Response:
        try:
            return Response.for_json(self._store.update(json.loads(request.get_data() or b"null")))
        except ValueError as e:  # InvalidSetting, a refusal by a guard, or malformed JSON
            return Response.for_json({"error": f"invalid settings: {e}"}, status=400)

    @route(SETTINGS_PATH, methods=["DELETE"])
    def reset(self, request: Request) -> dict[str, Any]:
        return self._store.reset()
