"""DESIGN.md §2: dependencies point one way. scim/ and oauth/ never import connector/."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


@pytest.mark.parametrize("package", ["scim", "oauth"])
def test_package_never_imports_connector(package):
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in imported_modules(path)
        if name == "connector" or name.startswith("connector.")
    ]
    assert offenders == []


def test_scim_and_oauth_do_not_import_each_other():
    pairs = [("scim", "oauth"), ("oauth", "scim")]
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for package, other in pairs
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in imported_modules(path)
        if name == other or name.startswith(other + ".")
    ]
    assert offenders == []
