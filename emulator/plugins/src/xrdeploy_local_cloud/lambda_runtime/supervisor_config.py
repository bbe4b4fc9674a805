"""What the executor hands to one Lambda supervisor process, and the files they share (stdlib only).

The executor writes the config as JSON into the environment's work directory and starts
``python -m xrdeploy_local_cloud.lambda_runtime.supervisor <config>``; the supervisor writes its
port back there.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

SUPERVISOR_MODULE = "xrdeploy_local_cloud.lambda_runtime.supervisor"
RUNTIME_SCRIPT = Path(__file__).with_name("python_runtime.py")
# Both in the environment's work directory.
PORT_FILE = "port"
ENVIRONMENT_LOG = "environment.log"


@dataclasses.dataclass(frozen=True)
class SupervisorConfig:
    """Everything the executor hands to one supervisor, serialised as JSON."""

    runtime_id: str
    runtime_endpoint: str
    workdir: str
    task_root: str
    python: str
    runtime_script: str
    sys_path: list[str]
    function_env: dict[str, str]
    function_version: str
    timeout_seconds: int
    memory_mb: int

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SupervisorConfig:
        return cls(**data)
