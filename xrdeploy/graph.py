"""The chain as a Mermaid diagram: stages in order, what each pipeline runs, and each hop."""

from __future__ import annotations

from xrdeploy.config import ChainConfig
from xrdeploy.naming import Naming


def _node(stage_name: str) -> str:
    return stage_name.replace("-", "_")


def mermaid(chain: ChainConfig) -> str:
    names = Naming(chain.app.name)
    lines = ["flowchart LR"]
    for stage in chain.stages:
        node = _node(stage.name)
        steps = ["Source", "Deploy"]
        downstream = chain.next_stage(stage)
        if downstream is not None:
            if stage.gates.manual_approval:
                steps.append("Approve")
            steps.append("Promote")
        lines += [
            f'  subgraph {node}["{stage.name} · {stage.account_id} · {stage.region}"]',
            f'    {node}_src[("{names.source_bucket(stage)}")]',
            f'    {node}_pipe["{" → ".join(steps)}"]',
            f'    {node}_fleet["{stage.fleet.instance_count} × {stage.fleet.instance_type} '
            f'({stage.fleet.tag_value})"]',
            f"    {node}_src --> {node}_pipe --> {node}_fleet",
            "  end",
        ]
    for stage in chain.stages:
        downstream = chain.next_stage(stage)
        if downstream is None:
            continue
        hop = (
            "cross-account copy"
            if downstream.account_id != stage.account_id
            else "cross-region copy"
            if downstream.region != stage.region
            else "copy"
        )
        lines.append(f"  {_node(stage.name)}_pipe -- {hop} --> {_node(downstream.name)}_src")
    return "\n".join(lines) + "\n"


def markdown(chain: ChainConfig) -> str:
    return f"# {chain.app.name} promotion chain\n\n```mermaid\n{mermaid(chain)}```\n"
