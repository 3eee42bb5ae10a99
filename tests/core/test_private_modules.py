"""A module whose name starts with `_` is private to its own app: another app that needs
what is in it asks for a public home for it instead (as cases/actions/base.py is, for the
functions of payouts/actions.py that change cases)."""

import ast
from pathlib import Path

import refunddesk

SOURCE = Path(refunddesk.__file__).parent


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found += [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return found


def app_of(dotted: str) -> str:
    return dotted.split(".")[1] if dotted.count(".") else ""


def test_no_app_imports_a_private_module_of_another_app():
    crossings = []
    for path in sorted(SOURCE.rglob("*.py")):
        importer = ".".join(("refunddesk", *path.relative_to(SOURCE).with_suffix("").parts))
        for module in imported_modules(path):
            parts = module.split(".")
            private = [part for part in parts[1:] if part.startswith("_")
                       and not part.startswith("__")]
            if (parts[0] == "refunddesk" and private
                    and app_of(module) != app_of(importer)):
                crossings.append(f"{importer} imports {module}")
    assert crossings == []
