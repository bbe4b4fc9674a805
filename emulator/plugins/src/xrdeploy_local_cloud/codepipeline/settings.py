"""Settings of the local CodePipeline, read from LocalStack's environment at each use (or from a
change made while it runs: :mod:`xrdeploy_local_cloud.settings.store`).

AWS's fixed waits are long for tests; these variables shorten them in the local cloud only
(the pipeline declaration stays what it is on AWS):

* ``XRDEPLOY_CODEPIPELINE_APPROVAL_TIMEOUT_SECONDS``: how long a Manual approval waits for
  PutApprovalResult before it fails (AWS: 7 days);
* ``XRDEPLOY_CODEPIPELINE_JOB_TIMEOUT_SECONDS``: how long a Lambda invoke action waits for the
  function's PutJobSuccessResult/PutJobFailureResult before the job times out (AWS: 1 hour);
* ``XRDEPLOY_CODEPIPELINE_POLL_SECONDS``: how often a CodeDeploy action polls its deployment;
* ``XRDEPLOY_CODEPIPELINE_WAIT_SCALE``: a factor applied to the waits of stage condition rules
  (a CloudWatchAlarm rule's ``WaitTime``, a rule's ``timeoutInMinutes``), e.g. ``0.01`` turns a
  60-minute bake into 36 seconds (AWS: 1, the declared times).
"""

from __future__ import annotations

from xrdeploy_local_cloud.settings.store import STORE

APPROVAL_TIMEOUT_ENV = "XRDEPLOY_CODEPIPELINE_APPROVAL_TIMEOUT_SECONDS"
JOB_TIMEOUT_ENV = "XRDEPLOY_CODEPIPELINE_JOB_TIMEOUT_SECONDS"
POLL_ENV = "XRDEPLOY_CODEPIPELINE_POLL_SECONDS"
WAIT_SCALE_ENV = "XRDEPLOY_CODEPIPELINE_WAIT_SCALE"

APPROVAL_TIMEOUT_DEFAULT = 7 * 24 * 3600.0
JOB_TIMEOUT_DEFAULT = 3600.0
POLL_DEFAULT = 1.0
WAIT_SCALE_DEFAULT = 1.0


def _seconds(name: str, default: float) -> float:
    text = (STORE.value(name) or "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        return default
    return value if value > 0 else default


def approval_timeout() -> float:
    return _seconds(APPROVAL_TIMEOUT_ENV, APPROVAL_TIMEOUT_DEFAULT)


def job_timeout() -> float:
    return _seconds(JOB_TIMEOUT_ENV, JOB_TIMEOUT_DEFAULT)


def poll_interval() -> float:
    return _seconds(POLL_ENV, POLL_DEFAULT)


def wait_scale() -> float:
    return _seconds(WAIT_SCALE_ENV, WAIT_SCALE_DEFAULT)


def rule_wait(minutes: float) -> float:
    """Seconds a rule waits for a declared number of minutes, after the local scale."""
    return minutes * 60.0 * wait_scale()
