"""What a push changed, and who is told: the services that start pipelines on pushes register a
listener here (CodePipeline's V2 triggers and change detection, CodeCommit's EventBridge events).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path

from xrdeploy_local_cloud.git import repos
from xrdeploy_local_cloud.git.urls import RepositoryAddress

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class RefUpdate:
    """One reference a push moved (``old`` or ``new`` is :data:`repos.ZERO_ID` when it was
    created or deleted)."""

    ref: str
    old: str
    new: str


@dataclasses.dataclass(frozen=True)
class PushEvent:
    repository: RepositoryAddress
    directory: Path
    updates: tuple[RefUpdate, ...]


Listener = Callable[[PushEvent], None]
_listeners: list[Listener] = []


def listen(listener: Listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def updates(before: dict[str, str], after: dict[str, str]) -> tuple[RefUpdate, ...]:
    """The references that differ between two :func:`repos.refs` readings, by name."""
    names = sorted(set(before) | set(after))
    return tuple(
        RefUpdate(name, before.get(name, repos.ZERO_ID), after.get(name, repos.ZERO_ID))
        for name in names
        if before.get(name) != after.get(name)
    )


def tell(event: PushEvent) -> None:
    """Tell every listener; one that fails is logged and does not keep the others from it."""
    for listener in list(_listeners):
        try:
            listener(event)
        except Exception:
            LOG.exception("a push listener failed on %s", event.repository.url_path)
