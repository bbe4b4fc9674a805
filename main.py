"""xrdeploy entry point: `python main.py [command]`; with no command it synthesizes (cdktf's app)."""

import sys

from xrdeploy.cli import run

if __name__ == "__main__":
    sys.exit(run())
