"""Where xrdeploy finds its own files and keeps its working state (one place for all paths)."""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTION_SOURCE = REPO_ROOT / "lambda"  # zipped as-is into the copy function's package
SAMPLE_APP = REPO_ROOT / "sample_app"
DEFAULT_OUTDIR = REPO_ROOT / "cdktf.out"
# Terraform CLI config, plugin cache and the local demo's synthesized stacks (git-ignored).
STATE_HOME = REPO_ROOT / ".xrdeploy"
LOCAL_HOME = STATE_HOME / "local"


def user_cache_dir() -> Path:
    """``xrdeploy`` in the user's cache directory (``$XDG_CACHE_HOME``, else ``~/.cache``): for
    what holds nothing of a checkout and so is shared by every clone on the machine."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache.expanduser().resolve() / "xrdeploy"
