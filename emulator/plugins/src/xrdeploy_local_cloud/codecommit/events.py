"""CodeCommit's "CodeCommit Repository State Change" events, sent when a push moves a reference
of a repository (source ``aws.codecommit``, the repository's ARN as resource, AWS's detail
fields). A pipeline sourced from CodeCommit is started by an EventBridge rule on them, as the
CodePipeline console sets it up; polling (``PollForSourceChanges``) is not emulated.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from xrdeploy_local_cloud.codecommit.model import RegionState
from xrdeploy_local_cloud.git import pushes, repos, urls

DETAIL_TYPE = "CodeCommit Repository State Change"
Sink = Callable[[str, str, dict[str, Any]], None]  # (account id, region, PutEvents entry)
StateOf = Callable[[str, str], RegionState]


def _kind(update: pushes.RefUpdate) -> str:
    if update.old == repos.ZERO_ID:
        return "referenceCreated"
    return "referenceDeleted" if update.new == repos.ZERO_ID else "referenceUpdated"


def entries(state: RegionState, name: str, updates: tuple[pushes.RefUpdate, ...]) -> list[Any]:
    """The PutEvents entries for a push's reference updates to the repository ``name``."""
    with state.lock:
        repository = state.repositories.get(name)
    if repository is None:
        return []
    found = []
    for update in updates:
        kind, _, short = update.ref.removeprefix("refs/").partition("/")
        detail = {
            "callerUserArn": f"arn:aws:iam::{state.account_id}:root",
            "event": _kind(update),
            "referenceFullName": update.ref,
            "referenceName": short,
            "referenceType": "branch" if kind == "heads" else "tag",
            "repositoryId": repository.id,
            "repositoryName": repository.name,
        }
        if update.new != repos.ZERO_ID:
            detail["commitId"] = update.new
        if update.old != repos.ZERO_ID:
            detail["oldCommitId"] = update.old
        found.append(
            {
                "Source": "aws.codecommit",
                "DetailType": DETAIL_TYPE,
                "Resources": [repository.arn],
                "Detail": json.dumps(detail),
            }
        )
    return found


def listener(state_of: StateOf, sink: Sink) -> pushes.Listener:
    def on_push(event: pushes.PushEvent) -> None:
        address = event.repository
        if address.host != urls.CODECOMMIT:
            return
        state = state_of(address.account, address.region)
        for entry in entries(state, address.name, event.updates):
            sink(address.account, address.region, entry)

    return on_push
