"""CodePipeline variables: ``#{namespace.name}`` in action configuration, resolved per execution.

Namespaces: ``codepipeline`` (``PipelineExecutionId``), ``variables`` (the pipeline-level
variables of a V2 pipeline) and each action's ``namespace`` (its output variables, once it has
succeeded). A reference that cannot be resolved fails the action, as on AWS.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_REFERENCE = re.compile(r"#\{([A-Za-z0-9@_-]+)\.([A-Za-z0-9@_.-]+)\}")

Namespaces = Mapping[str, Mapping[str, str]]


class UnresolvedVariable(Exception):
    """A ``#{namespace.name}`` with no value in this execution."""


def resolve(text: str, namespaces: Namespaces) -> str:
    def value(match: re.Match[str]) -> str:
        namespace, name = match.group(1), match.group(2)
        found = namespaces.get(namespace, {}).get(name)
        if found is None:
            raise UnresolvedVariable(f"Unable to resolve the variable {match.group(0)}")
        return found

    return _REFERENCE.sub(value, text)


def resolve_configuration(
    configuration: Mapping[str, str], namespaces: Namespaces
) -> dict[str, str]:
    return {key: resolve(value, namespaces) for key, value in configuration.items()}
