"""LocalStack plugins that make the community runtime fit for xrdeploy's integration tests.

Lambda functions run as local processes, no Docker; three processes take part in one execution
environment:

* LocalStack itself loads :mod:`xrdeploy_localstack.executor` through the plugin in
  :mod:`xrdeploy_localstack.plugin` (entry-point group ``localstack.lambda.runtime_executor``,
  name ``local-process``).
* The executor starts :mod:`xrdeploy_localstack.supervisor` per environment. It plays the part
  LocalStack's Go init plays inside a Lambda container: it answers ``POST /invoke``, calls back
  ``status/ready``, ``invocations/<id>/logs``, ``.../response`` and ``.../error`` on LocalStack's
  gateway, enforces the timeout and the memory size, and serves the Lambda Runtime API.
* The supervisor starts :mod:`xrdeploy_localstack.python_runtime`, a minimal Python runtime
  interface client that imports the handler and runs invocations.

The Extension :mod:`xrdeploy_localstack.guards` adds fault injection and enforces STS trust
policies and KMS key state in S3; :mod:`xrdeploy_localstack.extension_loader` loads it, since
the community runtime loads no extensions. :mod:`xrdeploy_localstack.loopback_server` is a
gateway server that binds only the configured host.
"""

PLUGIN_NAME = "local-process"
SERVER_PLUGIN_NAME = "twisted-loopback"
