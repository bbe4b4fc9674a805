"""LocalStack Lambda runtime executor that runs Python functions as local processes.

Three processes take part in one execution environment:

* LocalStack itself loads :mod:`xrdeploy_local_lambda.executor` through the plugin in
  :mod:`xrdeploy_local_lambda.plugin` (entry-point group ``localstack.lambda.runtime_executor``,
  name ``local-process``).
* The executor starts :mod:`xrdeploy_local_lambda.supervisor` per environment. It plays the part
  LocalStack's Go init plays inside a Lambda container: it answers ``POST /invoke``, calls back
  ``status/ready``, ``invocations/<id>/logs``, ``.../response`` and ``.../error`` on LocalStack's
  gateway, enforces the timeout and the memory size, and serves the Lambda Runtime API.
* The supervisor starts :mod:`xrdeploy_local_lambda.python_runtime`, a minimal Python runtime
  interface client that imports the handler and runs invocations.
"""

PLUGIN_NAME = "local-process"
