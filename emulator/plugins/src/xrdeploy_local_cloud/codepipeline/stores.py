"""Where the local CodePipeline keeps its state: per account and region, as LocalStack does."""

from __future__ import annotations

from localstack.services.stores import AccountRegionBundle, BaseStore, LocalAttribute

from xrdeploy_local_cloud.codepipeline.models import Job, Pipeline


class CodePipelineStore(BaseStore):
    # LocalStack's LocalAttribute is a descriptor typed as itself; reads give the default's type.
    pipelines: dict[str, Pipeline] = LocalAttribute(default=dict)  # type: ignore[assignment]
    jobs: dict[str, Job] = LocalAttribute(default=dict)  # type: ignore[assignment]


codepipeline_stores = AccountRegionBundle("codepipeline", CodePipelineStore)


def store(account_id: str, region: str) -> CodePipelineStore:
    return codepipeline_stores[account_id][region]
