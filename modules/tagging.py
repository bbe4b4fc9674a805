"""Tags every taggable resource of a stage with its stage name.

App and ManagedBy come from the provider's default_tags; Stage cannot, because in the single-stack
layout two stages in one account and region share a provider.
"""

from __future__ import annotations

from typing import Any

import jsii
from cdktf import IAspect, TerraformResource
from constructs import IConstruct

STAGE_TAG = "Stage"


@jsii.implements(IAspect)
class StageTagger:
    def __init__(self, stage: str) -> None:
        self._stage = stage

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, TerraformResource) or not hasattr(type(node), "tags_input"):
            return
        current: dict[str, Any] = dict(node.tags_input or {})  # type: ignore[attr-defined]
        current.setdefault(STAGE_TAG, self._stage)
        node.tags = current  # type: ignore[attr-defined]
