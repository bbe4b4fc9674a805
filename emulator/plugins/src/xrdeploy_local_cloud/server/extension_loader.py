"""Load LocalStack Extensions into the community runtime.

``localstack-core`` defines the Extension API (``localstack.extensions.api``) but only LocalStack's
licensed runtime loads extensions; the community runtime ignores the ``localstack.extensions``
entry-point group, and its ``config`` has no extension settings (``EXTENSION_AUTO_INSTALL`` and
the like belong to the licensed runtime). The hooks in :mod:`xrdeploy_local_cloud.plugin` call
these functions so that every installed extension goes through its documented lifecycle: on
start, before the gateway serves, ``on_extension_load``, ``on_platform_start`` and the
``update_*`` methods with the gateway's router and custom handler lists; ``on_platform_ready``
when LocalStack is ready; ``on_platform_shutdown`` on shutdown.
"""

from __future__ import annotations

import logging

from localstack.extensions.api import Extension
from plux import PluginManager

LOG = logging.getLogger(__name__)

_loaded: list[Extension] = []


def start() -> None:
    from localstack.aws import handlers
    from localstack.services.edge import ROUTER

    # A broken extension fails LocalStack's start instead of silently not guarding anything.
    for extension in PluginManager(Extension.namespace).load_all(propagate_exceptions=True):
        LOG.info("loading LocalStack extension %s", extension.name)
        extension.on_extension_load()
        extension.on_platform_start()
        extension.update_gateway_routes(ROUTER)
        extension.update_request_handlers(handlers.serve_custom_service_request_handlers)
        extension.update_response_handlers(handlers.run_custom_response_handlers)
        extension.update_exception_handlers(handlers.serve_custom_exception_handlers)
        extension.update_finalizers(handlers.run_custom_finalizers)
        _loaded.append(extension)


def ready() -> None:
    for extension in _loaded:
        extension.on_platform_ready()


def shutdown() -> None:
    for extension in _loaded:
        extension.on_platform_shutdown()
