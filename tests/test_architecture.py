"""The package's layout rules, checked on the source: no private name crosses modules, no import cycles.

Every ``human3d`` module is parsed (not imported). Imports inside functions count: a cycle hidden in a
function body is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "human3d"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, tuple[Path, ast.Module]]:
    return {_module_name(p): (p, ast.parse(p.read_text(encoding="utf-8"))) for p in sorted(PACKAGE.rglob("*.py"))}


MODULES = _modules()


def _imports(name: str, path: Path, tree: ast.Module) -> list[tuple[str, str | None]]:
    """(module, imported name or None) for every ``human3d`` import of one module, relative ones resolved."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found += [(module, alias.name) for alias in node.names if module.split(".")[0] == "human3d"]
        elif isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names if alias.name.split(".")[0] == "human3d"]
    return found


def _dependencies() -> dict[str, set[str]]:
    """Module -> the human3d modules it imports (a ``from package import module`` names the module)."""
    graph = {}
    for name, (path, tree) in MODULES.items():
        targets = set()
        for module, imported in _imports(name, path, tree):
            submodule = f"{module}.{imported}" if imported else None
            targets.add(submodule if submodule in MODULES else module)
        graph[name] = {t for t in targets if t in MODULES and t != name}
    return graph


def test_no_private_name_is_imported_from_another_module() -> None:
    crossings = [
        f"{name} imports {imported} from {module}"
        for name, (path, tree) in MODULES.items()
        for module, imported in _imports(name, path, tree)
        if imported and imported.startswith("_") and not imported.startswith("__") and module != name
    ]
    assert crossings == []


def test_no_private_attribute_of_another_object_is_used() -> None:
    """``obj._name`` only on ``self`` / ``cls`` (a module's own objects), never on another module's object."""
    uses = []
    for name, (_, tree) in MODULES.items():
        own = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                owner = node.value
                if isinstance(owner, ast.Name) and (owner.id in ("self", "cls") or owner.id in own):
                    continue
                uses.append(f"{name}: {ast.unparse(node)}")
    # torch's pickle rebuild functions, by name; torch's NNPACK convolution operator (aten::_nnpack_spatial_convolution)
    allowed = {"human3d.io.safe_pickle", "human3d.pifuhd.checkpoint", "human3d.nn.conv"}
    assert [u for u in uses if u.split(":")[0] not in allowed] == []


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def test_no_import_cycles_between_modules() -> None:
    assert _cycles(_dependencies()) == []


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_every_public_function_and_class_has_a_docstring() -> None:
    missing = [
        f"{name}.{node.name}"
        for name, (_, tree) in MODULES.items()
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.ClassDef))
        and not node.name.startswith("_")
        and ast.get_docstring(node) is None
    ]
    assert missing == []
