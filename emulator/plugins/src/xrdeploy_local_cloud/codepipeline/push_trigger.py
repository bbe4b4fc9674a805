"""A push to a connection's repository starts the pipelines sourced from it, through the same
filters AWS applies (:func:`.git_filters.start_trigger`); each reference the push moved that a
pipeline's filters admit starts one execution pinned to that reference's new commit (trigger
``WebhookV2`` or ``Webhook``, the connection's ARN as detail). A deleted reference starts
nothing. CodeCommit repositories start pipelines through EventBridge instead
(:mod:`..codecommit.events`).
"""

from __future__ import annotations

import logging
from typing import Any

from localstack.aws.api import ServiceException

from xrdeploy_local_cloud.codepipeline import execution_states as states
from xrdeploy_local_cloud.codepipeline import git_filters, git_sources, models, runs, stores
from xrdeploy_local_cloud.git import pushes, repos, urls

LOG = logging.getLogger(__name__)


def _pipelines() -> list[tuple[str, str, models.Pipeline]]:
    with states.reading():
        return [
            (account_id, region, pipeline)
            for account_id, regions in stores.codepipeline_stores.items()
            for region, store in regions.items()
            for pipeline in store.pipelines.values()
        ]


def _sourced_from(
    pipeline: models.Pipeline, account_id: str, region: str, address: urls.RepositoryAddress
) -> list[tuple[dict[str, Any], str]]:
    """The pipeline's connection source actions that read ``address``, with their connection."""
    found = []
    for action in git_sources.git_actions(pipeline.declaration):
        if action["actionTypeId"]["provider"] != git_sources.CONNECTION:
            continue
        try:
            source, arn = git_sources.repository_of(action, account_id, region)
        except git_sources.SourceUnavailable:
            continue  # a missing or pending connection hears of no push
        if source == address:
            found.append((action, arn))
    return found


def _start(
    account_id: str,
    region: str,
    pipeline: models.Pipeline,
    trigger: dict[str, str],
    action: str,
    commit_id: str,
) -> None:
    state = stores.state_for(account_id, region)  # no AWS request behind a push
    try:
        variables = runs.variables_for(pipeline.declaration, None)
        runs.start_execution(state, pipeline, trigger, variables, {action: commit_id})
    except ServiceException as refused:
        LOG.warning("a push could not start pipeline %s: %s", pipeline.name, refused)


def on_push(event: pushes.PushEvent) -> None:
    if event.repository.host == urls.CODECOMMIT:
        return
    moved = [u for u in event.updates if u.new != repos.ZERO_ID]
    changed = {u.ref: repos.changed_paths(event.directory, u.old, u.new) for u in moved}
    for account_id, region, pipeline in _pipelines():
        for action, arn in _sourced_from(pipeline, account_id, region, event.repository):
            for update in moved:
                push = git_filters.Push(update.ref, changed[update.ref])
                kind = git_filters.start_trigger(pipeline.declaration, action, push)
                if kind is None:
                    continue
                trigger = {"triggerType": kind, "triggerDetail": arn}
                _start(account_id, region, pipeline, trigger, action["name"], update.new)


def register() -> None:
    pushes.listen(on_push)
