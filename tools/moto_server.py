"""moto's server with one change: a 12-digit access key id names the account it acts in.

That is LocalStack's convention, and what a plan of several accounts needs: each provider passes
`allowed_account_ids`, and the provider checks it against sts:GetCallerIdentity. Stock moto answers
every unknown key with its one default account.

Runs in the security-scan venv (tools/checkov_env.py), not in the project's:
    <venv>/bin/python tools/moto_server.py -H 127.0.0.1 -p PORT
"""

from __future__ import annotations

import re
import sys
from typing import Any

from moto.core.responses import BaseResponse
from moto.server import main

# SigV4: "AWS4-HMAC-SHA256 Credential=<access key id>/<date>/<region>/<service>/aws4_request, ..."
_ACCOUNT_KEY = re.compile(r"Credential=(\d{12})/")
_default_account = BaseResponse.get_current_account


def _account_from_access_key(self: Any) -> str:
    match = _ACCOUNT_KEY.search(self.headers.get("Authorization") or "")
    return match.group(1) if match else str(_default_account(self))


BaseResponse.get_current_account = _account_from_access_key  # type: ignore[method-assign]

if __name__ == "__main__":
    main(sys.argv[1:])
