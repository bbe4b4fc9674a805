"""EventBridge → CodePipeline: a rule's target that is a pipeline starts an execution.

LocalStack's EventBridge has no CodePipeline target; :func:`register` adds one. The sender
calls StartPipelineExecution with the target's ``RoleArn`` (LocalStack assumes it as
``events.amazonaws.com``, so a role that does not trust EventBridge is refused by
:mod:`..guards.trust` and nothing starts) and tells the call which rule sent it: the
execution's trigger is then ``CloudWatchEvent`` with the rule's ARN, as on AWS. A target
without a role starts nothing (AWS requires one for CodePipeline targets).
"""

from __future__ import annotations

import logging
from typing import Any

LOG = logging.getLogger(__name__)


def register() -> None:
    from localstack.services.events.target import TargetSender, TargetSenderFactory

    class CodePipelineTargetSender(TargetSender):
        def send_event(self, event: Any, trace_header: Any) -> None:
            if not self.target.get("RoleArn"):
                LOG.warning(
                    "rule %s: target %s has no RoleArn; EventBridge needs a role to start a "
                    "pipeline",
                    self.rule_arn,
                    self.target["Arn"],
                )
                return
            # arn:aws:codepipeline:<region>:<account>:<pipeline name>
            self.client.start_pipeline_execution(name=self.target["Arn"].split(":", 5)[5])

    TargetSenderFactory.register_target_sender("codepipeline", CodePipelineTargetSender)
