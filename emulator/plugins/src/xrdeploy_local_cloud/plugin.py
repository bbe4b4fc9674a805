"""plux plugins of the package, found by LocalStack through the entry points in pyproject.toml.

* ``local-process`` (group ``localstack.lambda.runtime_executor``): the Lambda runtime executor,
  selected with ``LAMBDA_RUNTIME_EXECUTOR=local-process``;
* ``twisted-loopback`` (group ``localstack.runtime.server``): the gateway server that listens on
  ``GATEWAY_LISTEN``'s host only, selected with ``GATEWAY_SERVER=twisted-loopback``;
* hooks that load LocalStack Extensions (our ``xrdeploy-guards``), which the community runtime
  does not do itself (:mod:`xrdeploy_local_cloud.server.extension_loader`).

Kept free of heavy imports: plux imports every plugin module of a namespace to list its plugins,
also when another plugin of that namespace is selected.
"""

from typing import Any

from localstack.runtime import hooks
from localstack.runtime.server.core import RuntimeServer, RuntimeServerPlugin
from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin
from localstack.services.plugins import aws_provider

from xrdeploy_local_cloud import PLUGIN_NAME, SERVER_PLUGIN_NAME


class LocalProcessRuntimeExecutorPlugin(RuntimeExecutorPlugin):
    """Selected with ``LAMBDA_RUNTIME_EXECUTOR=local-process``."""

    name = PLUGIN_NAME

    def load(self, *args: Any, **kwargs: Any) -> Any:
        from xrdeploy_local_cloud.lambda_runtime.executor import LocalProcessRuntimeExecutor

        return LocalProcessRuntimeExecutor


class LoopbackTwistedServerPlugin(RuntimeServerPlugin):
    """Selected with ``GATEWAY_SERVER=twisted-loopback``."""

    name = SERVER_PLUGIN_NAME

    def load(self, *args: Any, **kwargs: Any) -> RuntimeServer:
        from xrdeploy_local_cloud.server.loopback import LoopbackTwistedRuntimeServer

        return LoopbackTwistedRuntimeServer()


@hooks.on_infra_start()
def xrdeploy_load_extensions() -> None:
    from xrdeploy_local_cloud.server import extension_loader

    extension_loader.start()


@hooks.on_infra_ready()
def xrdeploy_extensions_ready() -> None:
    from xrdeploy_local_cloud.server import extension_loader

    extension_loader.ready()


@hooks.on_infra_shutdown()
def xrdeploy_extensions_shutdown() -> None:
    from xrdeploy_local_cloud.server import extension_loader

    extension_loader.shutdown()


@aws_provider(api="codepipeline")
def codepipeline() -> Any:
    from xrdeploy_local_cloud.codepipeline.service import create_service

    return create_service()


@aws_provider(api="codedeploy")
def codedeploy() -> Any:
    from xrdeploy_local_cloud.codedeploy.service import create_service

    return create_service()


@aws_provider(api="codecommit")
def codecommit() -> Any:
    from xrdeploy_local_cloud.codecommit.service import create_service

    return create_service()


@aws_provider(api="codeconnections")
def codeconnections() -> Any:
    from xrdeploy_local_cloud.codeconnections.service import create_service

    return create_service("codeconnections")


@aws_provider(api="codestar-connections")
def codestar_connections() -> Any:
    from xrdeploy_local_cloud.codeconnections.service import create_service

    return create_service("codestar-connections")


@hooks.on_infra_start()
def xrdeploy_git_push_triggers() -> None:
    from xrdeploy_local_cloud.codepipeline import push_trigger

    push_trigger.register()


@hooks.on_infra_start()
def xrdeploy_ec2_fixes() -> None:
    from xrdeploy_local_cloud.ec2 import fixes

    fixes.apply()


@hooks.on_infra_start()
def xrdeploy_pipeline_triggers() -> None:
    from xrdeploy_local_cloud.codepipeline import triggers

    triggers.register()


@hooks.on_infra_start()
def xrdeploy_instance_support() -> None:
    from xrdeploy_local_cloud.instances import support

    support.report()


@hooks.on_infra_start()
def xrdeploy_lambda_event_handoff() -> None:
    from xrdeploy_local_cloud.lambda_runtime import event_handoff

    event_handoff.install()
