"""plux plugin that hands LocalStack the local-process runtime executor class.

Kept free of heavy imports: plux imports every plugin module of the namespace to list the
available executors, also when another executor is selected.
"""

from typing import Any

from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin

from xrdeploy_local_lambda import PLUGIN_NAME


class LocalProcessRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    """Selected with ``LAMBDA_RUNTIME_EXECUTOR=local-process``."""

    name = PLUGIN_NAME

    def load(self, *args: Any, **kwargs: Any) -> Any:
        from xrdeploy_local_lambda.executor import LocalProcessRuntimeExecutor

        return LocalProcessRuntimeExecutor
