"""Client of the local cloud's run-time settings (``/_xrdeploy/settings``): switch enforcement,
CodePipeline's wait scale and timeouts on a running local cloud instead of starting another.

The settings and their values are those of
``emulator/plugins/src/xrdeploy_local_cloud/settings/store.py``.
"""

from __future__ import annotations

from emulator.gateway import call
from emulator.home import EmulatorError

SETTINGS_PATH = "/_xrdeploy/settings"

SettingValue = bool | float | None


def _answer(endpoint: str, method: str, body: object = None) -> dict[str, SettingValue]:
    answer = call(endpoint, method, SETTINGS_PATH, body)
    if not isinstance(answer, dict):
        raise EmulatorError(f"{method} {SETTINGS_PATH} on {endpoint} answered {answer!r}")
    return answer


def get_settings(endpoint: str) -> dict[str, SettingValue]:
    """Every setting with its current value."""
    return _answer(endpoint, "GET")


def change_settings(endpoint: str, **changes: SettingValue) -> dict[str, SettingValue]:
    """Change some settings (None: back to the start value); a refusal raises EmulatorError."""
    return _answer(endpoint, "PATCH", changes)


def reset_settings(endpoint: str) -> dict[str, SettingValue]:
    """Every setting back to the value the local cloud started with."""
    return _answer(endpoint, "DELETE")
