"""The hand-written stubs (_mailseal.pyi) name exactly what the native module has (mypy's
stubtest is not installed here; this catches drift in names)."""

from __future__ import annotations

import ast
from pathlib import Path

import mailseal
from mailseal import _mailseal

STUB = Path(mailseal.__file__).with_name("_mailseal.pyi")


def _stub_names():
    tree = ast.parse(STUB.read_text())
    names, members = set(), {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names.add(node.name)
            members[node.name] = {
                n.name if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) else n.target.id
                for n in node.body
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                or (isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name))
            }
        elif isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names, members


def test_stub_matches_the_native_module():
    names, members = _stub_names()
    native = {n for n in dir(_mailseal) if not n.startswith("_")} | {"__version__"}
    assert names - {"CodeProvider", "ProgressCallback"} == native
    for cls, stubbed in members.items():
        real = {n for n in dir(getattr(_mailseal, cls)) if not n.startswith("_")}
        stubbed = {n for n in stubbed if not n.startswith("_") or n == "__init__"} - {"__init__"}
        assert stubbed == real, cls


def test_package_exports_everything():
    assert set(mailseal.__all__) >= {n for n in dir(_mailseal) if not n.startswith("_")}
    for name in mailseal.__all__:
        assert hasattr(mailseal, name), name
