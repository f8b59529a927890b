"""The package's parts depend on each other in one direction: no import cycle between
sub-packages (or root modules) of `exotel_bot`, counting every import, including those inside
functions and under TYPE_CHECKING (an import moved into a function still ties the two together).

Read with the standard library's `ast`, without importing anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "exotel_bot"


def part_of(module: str) -> str | None:
    """`exotel_bot.call.control` -> "call"; `exotel_bot.settings` -> "settings"; else None."""
    pieces = module.split(".")
    if pieces[0] != "exotel_bot" or len(pieces) < 2:
        return None
    return pieces[1]


def module_name(path: Path, package: Path = PACKAGE) -> str:
    relative = path.relative_to(package.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path = PACKAGE) -> set[str]:
    """Every module `path` imports (absolute names), wherever the import statement is."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def part_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    """Part -> the other parts it imports. `exotel_bot/__init__.py` (bot.py's names, loaded
    on first use) is the package's face, not a part."""
    parts = {p.stem for p in root.glob("*.py")} | {p.name for p in root.iterdir() if p.is_dir()}
    graph: dict[str, set[str]] = {}
    for path in root.rglob("*.py"):
        if path == root / "__init__.py":
            continue
        source = part_of(module_name(path, root))
        targets = graph.setdefault(source, set())
        for module in imports_of(path, root):
            target = part_of(module)
            if target in parts and target != source:
                targets.add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected group of more than one part (Tarjan's algorithm), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups)


def test_no_import_cycle_between_sub_packages():
    found = cycles(part_graph())
    assert not found, "import cycles between parts of exotel_bot: " + "; ".join(
        " <-> ".join(group) for group in found
    )


def test_the_check_finds_a_cycle(tmp_path):
    """The check itself: two sub-packages importing each other (one inside a function) fail."""
    package = tmp_path / "exotel_bot"
    for part in ("call", "records"):
        (package / part).mkdir(parents=True)
        (package / part / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "call" / "control.py").write_text("from exotel_bot.records.turns import X\n")
    (package / "records" / "turns.py").write_text(
        "def f():\n    from exotel_bot.call import control\n"
    )
    (package / "settings.py").write_text("from .call import control\n")

    graph = part_graph(package)
    assert graph["call"] == {"records"} and graph["records"] == {"call"}
    assert graph["settings"] == {"call"}  # a relative import counts too
    assert cycles(graph) == [["call", "records"]]


def test_every_import_of_the_package_names_a_module_that_exists():
    """An import left behind by a move (often inside a function, where nothing runs it until a
    call needs it) names a module that is gone: found here, not on a live call."""
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    missing = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            missing += [
                f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {name}"
                for name in names
                if name.startswith("exotel_bot") and name not in modules
            ]
    assert not missing, missing
