"""The promotion topology: which stage each stage follows (`stages[].after`), its rules, and the
waves it forms. Pure functions over stage names and list positions, so every rule is tested
without a config around it.

A stage follows the stage its `after` names, or, when it names none, the previous stage in the
list; `after: null` makes a stage a first stage. Stages after the same stage form a wave: the
upstream pipeline promotes to all of them at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# `after` as written: (written at all, the name or None).
Declared = tuple[bool, str | None]


@dataclass(frozen=True)
class Topology:
    names: tuple[str, ...]
    # upstream[i]: the name of the stage stages[i] follows; None for a first stage.
    upstream: tuple[str | None, ...]

    @classmethod
    def of(cls, names: Sequence[str], declared: Sequence[Declared]) -> Topology:
        upstream = [
            after if written else (names[index - 1] if index else None)
            for index, (written, after) in enumerate(declared)
        ]
        return cls(tuple(names), tuple(upstream))

    def downstream(self, name: str) -> tuple[str, ...]:
        return tuple(n for n, up in zip(self.names, self.upstream, strict=True) if up == name)

    def depths(self) -> dict[str, int]:
        """Each reachable stage's distance from the first stage."""
        depth: dict[str, int] = {}
        frontier = [n for n, up in zip(self.names, self.upstream, strict=True) if up is None][:1]
        level = 0
        while frontier:
            depth.update((name, level) for name in frontier)
            frontier = [d for name in frontier for d in self.downstream(name) if d not in depth]
            level += 1
        return depth

    def waves(self) -> tuple[tuple[str, ...], ...]:
        depth = self.depths()
        levels = max(depth.values(), default=-1) + 1
        return tuple(
            tuple(n for n in self.names if depth.get(n) == level) for level in range(levels)
        )

    def problems(self, declared: Sequence[Declared]) -> list[str]:
        """One line per problem, naming `stages[i].after`."""
        index = {name: i for i, name in reversed(list(enumerate(self.names)))}
        lines: list[str] = []
        broken: set[int] = set()
        for i, (written, after) in enumerate(declared):
            if written and after is not None and after not in index:
                lines.append(f'stages[{i}].after: unknown stage "{after}"')
                broken.add(i)
            elif written and after == self.names[i]:
                lines.append(f'stages[{i}].after: stage "{after}" cannot follow itself')
                broken.add(i)
        firsts = [i for i, up in enumerate(self.upstream) if up is None]
        for i in firsts[1:]:
            lines.append(
                f'stages[{i}].after: "{self.names[i]}" would be a second first stage after '
                f'"{self.names[firsts[0]]}"; a chain has one first stage, name the stage it follows'
            )
        in_cycle = self._cycles(index, broken, lines)
        for i, up in enumerate(self.upstream):
            if i in broken or i in in_cycle or up is None or up not in index:
                continue
            if self._reaches_cycle(i, index, in_cycle):
                lines.append(
                    f'stages[{i}].after: "{self.names[i]}" can never be reached: it follows a cycle'
                )
            elif index[up] > i:
                lines.append(
                    f'stages[{i}].after: "{up}" is listed after "{self.names[i]}"; list every '
                    "stage after the one it follows (stacks deploy in list order)"
                )
        return lines

    def _cycles(self, index: dict[str, int], broken: set[int], lines: list[str]) -> set[int]:
        in_cycle: set[int] = set()
        for start in range(len(self.names)):
            path: list[int] = []
            node: int | None = start
            while node is not None and node not in path and node not in broken:
                path.append(node)
                up = self.upstream[node]
                node = index.get(up) if up is not None else None
            if node is None or node in broken or node in in_cycle or node not in path:
                continue
            cycle = path[path.index(node) :]
            in_cycle.update(cycle)
            first = min(cycle)
            order = [first]
            while (nxt := index[self.upstream[order[-1]]]) != first:  # type: ignore[index]
                order.append(nxt)
            names = " → ".join(self.names[i] for i in [*order, first])
            lines.append(f"stages[{first}].after: cycle: {names} (each follows the next)")
        return in_cycle

    def _reaches_cycle(self, i: int, index: dict[str, int], in_cycle: set[int]) -> bool:
        seen: set[int] = set()
        node: int | None = i
        while node is not None and node not in seen:
            if node in in_cycle:
                return True
            seen.add(node)
            up = self.upstream[node]
            node = index.get(up) if up is not None else None
        return False
