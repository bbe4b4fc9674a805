"""The constructs load the AWS provider's binding module by module (modules/provider_binding.py),
not through the package's __init__, which imports all of its modules."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO_ROOT

PROBE = """
import sys
import modules
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
prefix = "cdktf_cdktf_provider_aws."
loaded = {name.split(".")[1] for name in sys.modules if name.startswith(prefix)}
print(sorted(loaded))
"""


def test_a_construct_import_loads_the_assembly_and_its_own_module_only() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "PATH": "/usr/bin:/bin"},
    )
    # (the eager __init__ would have loaded 2,135 modules)
    assert result.stdout.strip() == str(["_jsii", "s3_bucket"])
