"""IAM evaluated in the local cloud: requests of role sessions and IAM users judged by policy.

:mod:`.guard` is the request check the ``xrdeploy-guards`` extension runs (switch
``XRDEPLOY_ENFORCE_IAM``); :mod:`.ledger` records its decisions and serves them at
``/_xrdeploy/permissions``; :mod:`.evaluator` talks to the Node evaluator in
``emulator/iam_evaluator`` (``@cloud-copilot/iam-simulate``).
"""
