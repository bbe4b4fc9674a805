"""Lambda functions as local processes, no Docker; three processes take part in one execution
environment:

* LocalStack loads :mod:`.executor` through the ``local-process`` plugin in
  :mod:`xrdeploy_local_cloud.plugin` (entry-point group ``localstack.lambda.runtime_executor``).
* The executor starts :mod:`.supervisor` per environment. It plays the part LocalStack's Go init
  plays inside a Lambda container: it answers ``POST /invoke``, calls back ``status/ready``,
  ``invocations/<id>/logs``, ``.../response`` and ``.../error`` on LocalStack's gateway, enforces
  the timeout and the memory size, and serves the Lambda Runtime API.
* The supervisor starts :mod:`.python_runtime`, a minimal Python runtime interface client that
  imports the handler and runs invocations.

:mod:`.event_handoff` mends LocalStack's queue of asynchronous invocations, which an update of the
function could hold back for minutes.
"""
