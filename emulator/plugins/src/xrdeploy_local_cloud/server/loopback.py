"""LocalStack's twisted gateway server, listening on the host of ``GATEWAY_LISTEN`` only.

LocalStack's own ``twisted`` server takes only the port from an IPv4 ``GATEWAY_LISTEN`` entry and
listens on all interfaces (``TCP4ServerEndpoint`` without ``interface``), so
``GATEWAY_LISTEN=127.0.0.1:4566`` still accepts connections from the network. This server does
the same work (HTTP and TLS multiplexed on one port, LocalStack's thread-pool shutdown) but
passes the host as the interface. Selected with ``GATEWAY_SERVER=twisted-loopback``.
"""

from __future__ import annotations

from localstack import config
from localstack.aws.serving.twisted import TLSMultiplexerFactory
from localstack.runtime.server.twisted import TwistedRuntimeServer
from rolo.gateway import Gateway
from rolo.serving.twisted import TwistedGateway
from twisted.internet import endpoints, reactor, ssl
from twisted.internet.interfaces import IProtocolFactory


class LoopbackTwistedRuntimeServer(TwistedRuntimeServer):
    """``TwistedRuntimeServer`` whose listening sockets are bound to the configured host."""

    def __init__(self) -> None:
        # LocalStack's __init__ is unannotated, and untyped_calls_exclude does not reach super().
        super().__init__()  # type: ignore[no-untyped-call]

    def register(
        self,
        gateway: Gateway,
        listen: list[config.HostAndPort],
        ssl_creds: tuple[str, str] | None = None,
    ) -> None:
        site = TwistedGateway(gateway)
        # Twisted declares its factories' interfaces with zope.interface's @implementer, which
        # mypy does not see: the site and the context factory are what these parameters take.
        protocol_factory: IProtocolFactory = site  # type: ignore[assignment]
        if ssl_creds:
            cert_file, key_file = ssl_creds
            context_factory = ssl.DefaultOpenSSLContextFactory(key_file, cert_file)
            context_factory.getContext().use_certificate_chain_file(cert_file)
            # Plain HTTP and TLS on the same port, as LocalStack's gateway serves them.
            protocol_factory = TLSMultiplexerFactory(context_factory, False, site)  # type: ignore[arg-type,assignment]
        for address in listen:
            if config.is_ipv6_address(address.host):
                endpoints.TCP6ServerEndpoint(reactor, address.port, interface=address.host).listen(
                    protocol_factory
                )
            else:
                endpoints.TCP4ServerEndpoint(reactor, address.port, interface=address.host).listen(
                    protocol_factory
                )
