"""Local AWS emulator for integration tests: LocalStack without Docker, real Lambda execution.

See emulator/README.md. The public API is in :mod:`emulator.launcher`.
"""

from emulator.launcher import (
    EmulatorError,
    LocalStackServer,
    ensure_environment,
    existing_endpoint,
)

__all__ = ["EmulatorError", "LocalStackServer", "ensure_environment", "existing_endpoint"]
