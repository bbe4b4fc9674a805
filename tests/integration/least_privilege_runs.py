"""What the least-privilege replays of a promotion share, whichever chain ran it: the default
chain (tests/integration/chain/test_least_privilege.py) or the Git-sourced one
(tests/integration/test_local_git_chain.py). ``XRDEPLOY_UPDATE_DOCS=1`` writes each chain's table
into its own section of docs/security-scan.md."""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulator.least_privilege import Outcome, changed_documents
from tools.least_privilege import (
    Proof,
    fetch_record,
    generated_policies,
    key_aliases,
    replay_chain,
)
from tools.least_privilege_table import Labels, markdown, write_doc
from tools.least_privilege_verdicts import (
    Generated,
    stale_reasons,
    stale_widths,
    unexplained,
    width_findings,
)
from xrdeploy.console.chain_run import ChainFollower, Hop, StageResult
from xrdeploy.console.pipelines import stage_pipelines
from xrdeploy.rehearsal.local_chain import LocalDeployment


@dataclass(frozen=True)
class Replayed:
    proof: Proof
    generated: list[Generated]
    labels: Labels
    record: dict[str, Any]

    def outcome(self, stage: str, kind: str, statement: str, action: str | None) -> Outcome:
        policy = self.policy(stage, kind)
        return next(
            o
            for o in self.proof.removals.for_policy(policy.id)
            if (o.mutation.label, o.mutation.action) == (statement, action)
        )

    def policy(self, stage: str, kind: str) -> Generated:
        return next(g for g in self.generated if (g.stage, g.kind) == (stage, kind))


def assert_iam_enforced(chain: LocalDeployment) -> None:
    url = chain.endpoint.rstrip("/") + "/_xrdeploy/guards"
    with urllib.request.urlopen(url, timeout=30) as answer:
        assert json.load(answer)["enforce_iam"], "IAM must be enforced"


def record_time() -> str:
    """Now, as the guard's record writes the time of a request."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def replay_record(chain: LocalDeployment, record: dict[str, Any], section: str | None) -> Replayed:
    """Both replays of a promotion's record against every policy the chain created; ``section``:
    where ``XRDEPLOY_UPDATE_DOCS=1`` writes its table (None: nowhere)."""
    generated = generated_policies(chain.clients, chain.chain)
    # The documents read back through the AWS APIs are those the guard judged the run by.
    assert changed_documents(record["requests"], {g.id: g.document for g in generated}) == []
    proof = replay_chain(record, generated)
    labels = Labels(generated, key_aliases(chain.clients, chain.chain))
    if section is not None and os.environ.get("XRDEPLOY_UPDATE_DOCS") == "1":
        write_doc(markdown(proof.removals, proof.width, generated, labels), section=section)
    return Replayed(proof, generated, labels, record)


def push_followed(
    chain: LocalDeployment, push: Callable[[], str]
) -> tuple[str, list[StageResult], list[Hop], dict[str, Any]]:
    """Run ``push`` (it pushes a commit and returns its id) with IAM enforced, follow the chain to
    its last stage, and take the guard's record of the requests from the push on (without
    emptying the ledger other files' tests read): (commit id, results, hops, record)."""
    assert_iam_enforced(chain)
    # (no approval gate in the Git chains: nothing to answer)
    follower = ChainFollower(
        stage_pipelines(chain.chain),
        chain.clients,
        on_action=lambda *_: None,
        on_approval=lambda *_: None,
    )
    known = follower.known_executions()
    started = record_time()
    commit_id = push()
    results, hops = follower.follow(known)
    return commit_id, results, hops, fetch_record(chain.endpoint, since=started)


def assert_every_statement_needed_or_explained(replayed: Replayed) -> None:
    """Necessity: unmutated, every request gets the guard's answer; each removal denies a step of
    the chain or is explained by a Need; no Need is stale."""
    result = replayed.proof.removals
    assert result.requests > 0
    assert result.disagreements == ()
    missing = unexplained(result, replayed.generated)
    assert missing == [], missing
    assert stale_reasons(result, replayed.generated) == []


def assert_every_value_as_narrow_as_used(replayed: Replayed) -> None:
    """Width: every value of every Allow is as used, needed, or wider for a written reason."""
    assert width_findings(replayed.proof.width, replayed.generated) == []
    assert stale_widths(replayed.proof.width, replayed.generated) == []
