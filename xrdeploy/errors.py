"""Errors meant for the operator: printed as one line each, never as a traceback."""

from __future__ import annotations


class UserError(Exception):
    """A problem the operator can fix; the CLI prints each line of `problems` and exits 2."""

    exit_code = 2

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class ConfigError(UserError):
    """The config file is unreadable or invalid."""


class ToolError(UserError):
    """An external tool (terraform, LocalStack) failed or is missing."""

    exit_code = 1
