"""The house's floors: imports go down, stages do not import each other, no module cycles."""

from __future__ import annotations

import ast
from collections.abc import Collection
from pathlib import Path

from colisten.settings import REPO_ROOT

FLOORS = {
    "colisten": 0,
    "feature_repo": 1,
    "stream_processors": 2,
    "trainers": 2,
    "online": 2,
    "infra": 3,
}
"""The ground floor, the feature definitions, the three stages (which talk only through
Kafka topics, Feast views and model artifacts), and the top floor (CLI, services, loop)."""


def _imports(
    path: Path, module_level_only: bool, known: Collection[str] = ()
) -> list[str]:
    """Absolute imports of one file (also those inside functions unless asked not to).

    `from package import submodule` counts as an import of the submodule when it is in
    `known` (importing a package's submodule this way runs no more of the package)."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    out: list[str] = []
    for node in nodes:
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = [f"{node.module}.{a.name}" for a in node.names]
            if all(sub in known for sub in subs):
                out += subs
            else:
                out.append(node.module)
    return out


def _modules() -> dict[str, Path]:
    found = {}
    for package in FLOORS:
        for path in (REPO_ROOT / package).rglob("*.py"):
            parts = path.relative_to(REPO_ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def test_imports_go_down_and_stages_do_not_import_each_other() -> None:
    bad = []
    for name, path in _modules().items():
        here = name.split(".")[0]
        for target in _imports(path, module_level_only=False):
            there = target.split(".")[0]
            if there not in FLOORS or there == here:
                continue
            same_floor = FLOORS[there] == FLOORS[here]
            if FLOORS[there] > FLOORS[here] or same_floor:
                bad.append(f"{name} imports {target}")
    assert not bad, "\n".join(sorted(set(bad)))


def test_no_import_cycles_at_module_level() -> None:
    modules = _modules()
    graph = {
        name: {
            t
            for t in _imports(path, module_level_only=True, known=modules)
            if t in modules and t != name
        }
        for name, path in modules.items()
    }
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)
