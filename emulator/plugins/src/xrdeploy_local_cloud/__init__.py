"""xrdeploy's local cloud: the LocalStack plugins that make LocalStack's community runtime run the
generated system as AWS would.

One folder per emulated service or concern: :mod:`.codepipeline`, :mod:`.codedeploy`,
:mod:`.ec2`, :mod:`.iam`, :mod:`.lambda_runtime` (Lambda functions as local processes),
:mod:`.instances` (local EC2 instances), :mod:`.guards` (request guards and fault injection),
:mod:`.server` (extension loading and the loopback gateway server) and :mod:`.kit` (what every
service shares). LocalStack finds them through the entry points in ``pyproject.toml``, all of
which point into :mod:`.plugin` except the two Extensions.
"""

PLUGIN_NAME = "local-process"
SERVER_PLUGIN_NAME = "twisted-loopback"
