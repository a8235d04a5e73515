"""The package's shape: folders by stage, imports only down the stages, no circle, few layers, small modules.

Every `from . import` / `from .x import` in the package counts for the stages and the circles, at
any depth (a function-level or a TYPE_CHECKING import is still a dependency), read with `ast` from
the source, nothing imported. The layers count what loads a module: its module-level imports
(a command's function-level imports are deferred on purpose, so `validate` loads no framework).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "harness"
# the pipeline, in order; an import may only reach its own stage or an earlier one
STAGES = ("utilities", "model", "adapters", "truth", "cases", "results", "judge", "export", "report", "run",
          "commands")
UTILITIES = {"harness", "harness.problems", "harness.quiet", "harness.atomic"}
COMMANDS = {"harness.cli", "harness.commands", "harness.pytest_plugin", "harness.__main__"}
# a command's own package: models in reads a model, writes cases, runs them and reports, as fuzz does
COMMAND_PACKAGES = ("intake", "fuzz")
MAX_LAYERS = 10
MAX_LINES = 250


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def modules() -> dict[str, Path]:
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def typing_only(tree: ast.AST) -> set[int]:
    """ids of the import nodes under `if TYPE_CHECKING:`."""
    return {id(node) for block in ast.walk(tree) if isinstance(block, ast.If) and isinstance(block.test, ast.Name)
            and block.test.id == "TYPE_CHECKING" for statement in block.body for node in ast.walk(statement)}


@functools.cache
def graph(at_import: bool = False) -> dict[str, frozenset[str]]:
    known = modules()
    edges: dict[str, frozenset[str]] = {}
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found = set()
        tree = ast.parse(path.read_text())
        skipped = typing_only(tree) if at_import else set()
        for node in (tree.body if at_import else ast.walk(tree)):
            if id(node) in skipped:
                continue
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                for alias in node.names:  # `from . import geometry` imports the module geometry
                    found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in known else target)
            elif isinstance(node, ast.ImportFrom | ast.Import):
                names = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                found |= {n for n in names if n in known}
        found.discard(name)
        edges[name] = frozenset(found - {"harness"} if name != "harness" else found)
    return edges


def stage(name: str) -> str:
    if name in UTILITIES:
        return "utilities"
    if name in COMMANDS or name.split(".")[1] in COMMAND_PACKAGES:
        return "commands"
    return name.split(".")[1]


def test_every_module_sits_in_a_stage_folder() -> None:
    loose = [n for n in modules() if n.count(".") == 1 and n not in UTILITIES | COMMANDS and
             not (PACKAGE / n.split(".")[1]).is_dir()]
    assert not loose, f"modules outside the stage folders: {loose}"
    assert {stage(n) for n in modules()} <= set(STAGES)


def test_imports_run_only_down_the_stages() -> None:
    upward = [(a, b) for a, targets in graph().items() for b in targets
              if STAGES.index(stage(b)) > STAGES.index(stage(a))]
    assert not upward, f"imports that run back up the stages: {upward}"


def test_no_import_circle() -> None:
    edges = graph()
    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                circles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not circles, circles


def test_at_most_ten_layers() -> None:
    """A module's layer is one more than the highest layer it loads (a module importing nothing is 1)."""
    edges = graph(at_import=True)

    @functools.cache
    def layer(name: str) -> int:
        return 1 + max((layer(t) for t in edges[name]), default=0)

    worst = max(edges, key=layer)
    assert layer(worst) <= MAX_LAYERS, (worst, layer(worst))


def test_no_module_over_about_250_lines() -> None:
    long = {n: len(p.read_text().splitlines()) for n, p in modules().items()}
    assert not {n: lines for n, lines in long.items() if lines > MAX_LINES}


def test_the_checks_see_what_they_check() -> None:
    """The graph is not empty by accident: known edges are found, nested imports included."""
    edges = graph()
    assert "harness.model.schema" in edges["harness.model.data"]
    assert "harness.adapters.program" in edges["harness.adapters.base"]
    assert "harness.export.repro" in edges["harness.run.loop"]  # imported inside a function
    assert len(edges) > 50
