"""TRANSITIONAL(layers): removed once xrdeploy/cli.py imports xrdeploy.runner (after 09:45)."""

from xrdeploy.plan_summary import plan_summary_markdown
from xrdeploy.runner import ChainRunner

__all__ = ["ChainRunner", "plan_summary_markdown"]
