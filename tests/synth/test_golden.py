"""The default chain's synthesized Terraform, committed: a PR that changes it shows the diff.

Regenerate after an intended change with:
    XRDEPLOY_UPDATE_GOLDEN=1 pipenv run pytest tests/synth/test_golden.py
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "default"
# The function package's hash changes with every edit to lambda/; its content is tested apart.
ASSET_HASH = re.compile(r"(assets/[^/\"]+/)[0-9A-F]{32}")


def normalized(text: str) -> str:
    return ASSET_HASH.sub(r"\1<asset-hash>", text)


def test_default_synthesis_matches_the_committed_golden_files(synthesized):
    result = synthesized()
    produced = {
        f"{stack.name}.tf.json": normalized(
            json.dumps(stack.document(), indent=2, sort_keys=True) + "\n"
        )
        for stack in result.stacks
    }
    if os.environ.get("XRDEPLOY_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for stale in GOLDEN.glob("*.tf.json"):
            stale.unlink()
        for name, text in produced.items():
            (GOLDEN / name).write_text(text)
    committed = {path.name: path.read_text() for path in GOLDEN.glob("*.tf.json")}
    assert sorted(committed) == sorted(produced)
    for name, text in produced.items():
        assert text == committed[name], (
            f"{name} differs from tests/golden/default; if intended, regenerate (see module doc)"
        )
