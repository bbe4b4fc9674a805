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


class LoopbackTwistedRuntimeServer(TwistedRuntimeServer):
    """``TwistedRuntimeServer`` whose listening sockets are bound to the configured host."""

    def register(
        self,
        gateway: Gateway,
        listen: list[config.HostAndPort],
        ssl_creds: tuple[str, str] | None = None,
    ) -> None:
        site = TwistedGateway(gateway)
        protocol_factory = site
        if ssl_creds:
            cert_file, key_file = ssl_creds
            context_factory = ssl.DefaultOpenSSLContextFactory(key_file, cert_file)
            context_factory.getContext().use_certificate_chain_file(cert_file)
            # Plain HTTP and TLS on the same port, as LocalStack's gateway serves them.
            protocol_factory = TLSMultiplexerFactory(context_factory, False, site)
        for address in listen:
            endpoint_type = (
                endpoints.TCP6ServerEndpoint
                if config.is_ipv6_address(address.host)
                else endpoints.TCP4ServerEndpoint
            )
            endpoint_type(reactor, address.port, interface=address.host).listen(protocol_factory)
