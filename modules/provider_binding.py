"""The AWS provider's Python binding without its package's eager imports.

`cdktf_cdktf_provider_aws/__init__.py` imports all 2,135 of the package's modules (one per
resource and data source type) so that each registers its types with the jsii runtime up front:
about 8 s of CPU in every process that synthesizes, to use the ~35 modules our constructs need.
Each of those modules registers its own types when it is imported and loads the package's jsii
assembly itself (`from .._jsii import *`), so the package is put in `sys.modules` without running
its `__init__`, and the constructs' `from cdktf_cdktf_provider_aws.<module> import ...` load just
what they use. Nothing starts until then: a process that imports `modules` and never synthesizes
(a status command) does not start jsii's Node runtime. The synthesized JSON is the same
(tests/synth/test_golden.py).
"""

from __future__ import annotations

import importlib.util
import sys

PACKAGE = "cdktf_cdktf_provider_aws"


def load_lazily() -> None:
    """Register the package, its `__init__` not run; a no-op when it is already imported (either
    way), or not installed (the import then fails as usual)."""
    if PACKAGE in sys.modules:
        return
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None:
        return
    sys.modules[PACKAGE] = importlib.util.module_from_spec(spec)
