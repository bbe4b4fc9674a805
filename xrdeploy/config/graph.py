"""The chain as a Mermaid diagram: stages, what each pipeline runs and which gates hold it, and
each hop; the stages a stage promotes to at once (a wave) share one label."""

from __future__ import annotations

from xrdeploy.config.model import ChainConfig, Stage
from xrdeploy.config.naming import Naming


def _node(stage_name: str) -> str:
    return stage_name.replace("-", "_")


def _label(text: str) -> str:
    """Text safe inside a quoted Mermaid label (`#` starts an entity code there)."""
    return text.replace("#", "#35;").replace('"', "#quot;")


def gate_summary(stage: Stage, promotes: bool) -> list[str]:
    """The gates that hold the stage, in the order the pipeline meets them."""
    gates, parts = stage.gates, []
    if gates.deployment_window is not None:
        window = gates.deployment_window
        parts.append(f"window {window.cron} ({window.time_zone})")
    if gates.rollback_alarms:
        parts.append(f"deploy stops on {', '.join(gates.rollback_alarms)}")
    if gates.promote_when_alarms_ok:
        bake = f"bake {gates.bake_minutes} min, " if gates.bake_minutes else ""
        action = "promote" if promotes else "succeed"
        parts.append(f"{bake}{action} when OK: {', '.join(gates.promote_when_alarms_ok)}")
    if gates.rollback_on_failure:
        parts.append("rollback on failure")
    return parts


def _stage_lines(chain: ChainConfig, names: Naming, stage: Stage) -> list[str]:
    node = _node(stage.name)
    downstream = chain.downstream_of(stage.name)
    steps = ["Source", "Deploy"]
    if downstream:
        if stage.gates.manual_approval:
            steps.append("Approve")
        steps.append("Promote" if len(downstream) == 1 else f"Promote ×{len(downstream)}")
    lines = [
        f'  subgraph {node}["{stage.name} · {stage.account_id} · {stage.region}"]',
        f"    {node}_src{_source_node(chain, names, stage)}",
        f'    {node}_pipe["{" → ".join(steps)}"]',
        f'    {node}_fleet["{stage.fleet.instance_count} × {stage.fleet.instance_type} '
        f'({stage.fleet.tag_value})"]',
        f"    {node}_src --> {node}_pipe --> {node}_fleet",
    ]
    gates = gate_summary(stage, bool(downstream))
    if gates:
        lines += [
            f'    {node}_gates{{{{"{_label(" · ".join(gates))}"}}}}',
            f"    {node}_gates -.- {node}_pipe",
        ]
    return [*lines, "  end"]


def _source_node(chain: ChainConfig, names: Naming, stage: Stage) -> str:
    """The source bucket, or for a Git-sourced first stage the repository and branch."""
    source = chain.app.source
    if source.is_git and chain.upstream_of(stage.name) is None:
        return f'[/"{source.type}: {source.repository} ({source.branch})"/]'
    return f'[("{names.source_bucket(stage)}")]'


def _hop(stage: Stage, downstream: Stage, wave: int) -> str:
    kind = (
        "cross-account copy"
        if downstream.account_id != stage.account_id
        else "cross-region copy"
        if downstream.region != stage.region
        else "copy"
    )
    label = f"{kind} · wave of {wave}" if wave > 1 else kind
    return f'  {_node(stage.name)}_pipe -- "{label}" --> {_node(downstream.name)}_src'


def mermaid(chain: ChainConfig) -> str:
    names = Naming(chain.app.name)
    lines = ["flowchart LR"]
    for stage in chain.stages:
        lines += _stage_lines(chain, names, stage)
    for stage in chain.stages:
        downstream = chain.downstream_of(stage.name)
        lines += [_hop(stage, d, len(downstream)) for d in downstream]
    return "\n".join(lines) + "\n"


def markdown(chain: ChainConfig) -> str:
    return f"# {chain.app.name} promotion chain\n\n```mermaid\n{mermaid(chain)}```\n"
