"""Imports flow one way: client_auth <- pusherd.protocol <- the rest (STYLE.md, Shape)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STDLIB = sys.stdlib_module_names


def imported(path: Path) -> set[str]:
    """Every absolute module a file imports, at any depth (inside functions and TYPE_CHECKING too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import"
            assert node.module is not None
            found.add(node.module)
    return found


def top(module: str) -> str:
    return module.split(".")[0]


def modules(package: str) -> list[Path]:
    paths = sorted((ROOT / package).rglob("*.py"))
    assert paths, f"no modules found under {package}"
    return paths


@pytest.mark.parametrize("path", modules("pusherd/protocol"), ids=lambda p: p.name)
def test_the_protocol_core_imports_only_stdlib_client_auth_and_itself(path: Path) -> None:
    for module in imported(path):
        allowed = (
            top(module) in STDLIB
            or top(module) == "client_auth"
            or module == "pusherd.protocol"
            or module.startswith("pusherd.protocol.")
        )
        assert allowed, f"{path.name} imports {module}"


#: the one client_auth module meant for web apps may use their framework and JWT library
ENDPOINT_EXTRAS = {"endpoint.py": {"starlette", "jwt"}}


@pytest.mark.parametrize("path", modules("client_auth"), ids=lambda p: p.name)
def test_client_auth_imports_only_stdlib_and_itself(path: Path) -> None:
    extras = ENDPOINT_EXTRAS.get(path.name, set())
    for module in imported(path):
        assert top(module) in {*STDLIB, "client_auth", *extras}, f"{path.name} imports {module}"


def test_the_checker_sees_imports_a_module_hides_in_functions(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("import os\ndef f():\n    import starlette.requests\n    from jwt import x\n")

    assert imported(source) == {"os", "starlette.requests", "jwt"}
