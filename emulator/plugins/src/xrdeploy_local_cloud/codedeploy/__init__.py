"""CodeDeploy in the local cloud: control plane, deployment engine and the agent's lifecycle.

* :mod:`.service` builds the LocalStack service (operation name → handler);
  :mod:`.control` (applications, groups, configs, tags), :mod:`.deployments` (deployments,
  targets, revisions), :mod:`.onpremises` (on-premises instances), :mod:`.waits` (blue/green and
  Lambda/ECS calls) and :mod:`.connections` (GitHub tokens, external ids) answer the API from the
  store in :mod:`.store`; :mod:`.tagfilters` decides which instances a group selects.
* :mod:`.engine` drives a deployment through its instances in a background thread, as decided by
  the deployment config (:mod:`.configs`), with automatic rollback and alarm polling;
  :mod:`.lifecycle` runs one instance through the agent's lifecycle events;
  :mod:`.cloud` reaches LocalStack's EC2, S3, STS and CloudWatch and the local instances.
* :mod:`.agent` is the agent's file work (unpack, install, cleanup, permissions); it runs inside
  the instance as ``python -I -m xrdeploy_local_cloud.codedeploy.agent``.

Modules other than :mod:`.service`, :mod:`.store`, :mod:`.cloud` and :mod:`.roles` import nothing
from LocalStack, so unit tests run them on any Python ≥ 3.11.
"""
