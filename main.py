"""xrdeploy entry point: `python main.py [command]`; no command means synth (the cdktf app)."""

import sys

from xrdeploy.cli.main import run

if __name__ == "__main__":
    sys.exit(run())
