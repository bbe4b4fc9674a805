"""Settings of the local cloud that can change while it runs (pure: no LocalStack imports).

Each setting has an environment variable that gives its value at start (LocalStack's environment,
which the launcher composes); a change made at run time (:mod:`xrdeploy_local_cloud.settings.api`)
overrides that variable until it is reset. Readers ask :data:`STORE` at each use, so a change
applies to the next request, the next rule wait, the next job:

* ``enforce_trust``, ``enforce_kms_state``, ``enforce_iam`` (booleans): the guards of
  :mod:`xrdeploy_local_cloud.guards`;
* ``codepipeline_wait_scale``, ``codepipeline_job_timeout_seconds``,
  ``codepipeline_approval_timeout_seconds``, ``codepipeline_poll_seconds`` (positive numbers, or
  null for the value LocalStack started with): :mod:`xrdeploy_local_cloud.codepipeline.settings`.

One local cloud then serves tests that need different switches, instead of one LocalStack
process per combination.
"""

from __future__ import annotations

import dataclasses
import math
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

_ON = ("1", "true", "yes", "on")


class InvalidSetting(ValueError):
    """A change that cannot be made; the message names the setting."""


@dataclasses.dataclass(frozen=True)
class Setting:
    name: str  # as the API names it
    env: str  # the variable that gives its value at start
    boolean: bool  # a switch; otherwise a positive number of seconds or a factor

    def to_text(self, value: Any) -> str:
        """The environment-variable text for a JSON value; raises InvalidSetting."""
        if self.boolean:
            if not isinstance(value, bool):
                raise InvalidSetting(f"{self.name} must be true or false")
            return "1" if value else "0"
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value <= 0
        ):
            raise InvalidSetting(f"{self.name} must be a positive number or null")
        return str(value)

    def from_text(self, text: str | None) -> bool | float | None:
        """The JSON value of the variable's text (switches are on unless switched off)."""
        if self.boolean:
            return (text or "1").strip().lower() in _ON
        try:
            number = float(text) if text else None
        except ValueError:
            return None
        return number if number is not None and number > 0 else None


SETTINGS = (
    Setting("enforce_trust", "XRDEPLOY_ENFORCE_TRUST", boolean=True),
    Setting("enforce_kms_state", "XRDEPLOY_ENFORCE_KMS_STATE", boolean=True),
    Setting("enforce_iam", "XRDEPLOY_ENFORCE_IAM", boolean=True),
    Setting("codepipeline_wait_scale", "XRDEPLOY_CODEPIPELINE_WAIT_SCALE", boolean=False),
    Setting(
        "codepipeline_job_timeout_seconds",
        "XRDEPLOY_CODEPIPELINE_JOB_TIMEOUT_SECONDS",
        boolean=False,
    ),
    Setting(
        "codepipeline_approval_timeout_seconds",
        "XRDEPLOY_CODEPIPELINE_APPROVAL_TIMEOUT_SECONDS",
        boolean=False,
    ),
    Setting("codepipeline_poll_seconds", "XRDEPLOY_CODEPIPELINE_POLL_SECONDS", boolean=False),
)
_BY_NAME = {setting.name: setting for setting in SETTINGS}

# Told the environment a change would make; raises ValueError to refuse it (nothing changes).
Listener = Callable[[Mapping[str, str]], None]


class RuntimeSettings:
    """The overrides of one LocalStack process; thread-safe (the gateway serves in threads)."""

    def __init__(self, environ: Mapping[str, str] = os.environ) -> None:
        self._environ = environ
        self._overrides: dict[str, str] = {}
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def environ(self) -> dict[str, str]:
        """LocalStack's environment with the overrides applied."""
        with self._lock:
            return {**self._environ, **self._overrides}

    def value(self, env: str) -> str | None:
        """The current text of one variable: its override, else the environment's."""
        with self._lock:
            return self._overrides.get(env, self._environ.get(env))

    def subscribe(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def describe(self) -> dict[str, bool | float | None]:
        current = self.environ()
        return {s.name: s.from_text(current.get(s.env)) for s in SETTINGS}

    def update(self, changes: Any) -> dict[str, bool | float | None]:
        """Apply ``{name: value}`` (null: back to the start value) all or nothing."""
        if not isinstance(changes, dict) or not changes:
            raise InvalidSetting('send a JSON object of settings, e.g. {"enforce_iam": false}')
        unknown = sorted(set(changes) - set(_BY_NAME))
        if unknown:
            raise InvalidSetting(
                f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(_BY_NAME)}"
            )
        with self._lock:
            overrides = dict(self._overrides)
            for name, value in changes.items():
                setting = _BY_NAME[name]
                if value is None:
                    overrides.pop(setting.env, None)
                else:
                    overrides[setting.env] = setting.to_text(value)
            self._commit(overrides)
        return self.describe()

    def reset(self) -> dict[str, bool | float | None]:
        """Every setting back to the value LocalStack started with."""
        with self._lock:
            self._commit({})
        return self.describe()

    def _commit(self, overrides: dict[str, str]) -> None:
        environ = {**self._environ, **overrides}
        for listener in self._listeners:
            listener(environ)  # a refusal raises before anything is stored
        self._overrides = overrides


STORE = RuntimeSettings()
