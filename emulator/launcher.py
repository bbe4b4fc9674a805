"""The local cloud's public API for Python callers (tests, benchmarks): start LocalStack without
Docker from its own venv, find a running one, drive the fault injector and change its run-time
settings.

Stdlib only: the project and its tests import this module from Python 3.11. Users reach the local
cloud through ``python -m emulator`` (or ``python main.py local ...``), not through this module.
"""

from emulator.faults import FAULTS_PATH, add_fault, clear_faults, list_faults
from emulator.home import EmulatorError, localstack_home
from emulator.local_cloud import (
    RunningCloud,
    existing_endpoint,
    running_cloud,
    start_local_cloud,
    stop_local_cloud,
)
from emulator.server import DEFAULT_SERVICES, LocalStackServer
from emulator.settings import SETTINGS_PATH, change_settings, get_settings, reset_settings
from emulator.venv import ensure_environment, find_python313

__all__ = [
    "DEFAULT_SERVICES",
    "FAULTS_PATH",
    "SETTINGS_PATH",
    "EmulatorError",
    "LocalStackServer",
    "RunningCloud",
    "add_fault",
    "change_settings",
    "clear_faults",
    "ensure_environment",
    "existing_endpoint",
    "find_python313",
    "get_settings",
    "list_faults",
    "localstack_home",
    "reset_settings",
    "running_cloud",
    "start_local_cloud",
    "stop_local_cloud",
]
