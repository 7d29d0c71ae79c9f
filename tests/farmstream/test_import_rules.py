"""Unit tests of the import rules between farmstream's packages, read from the source with ``ast``.

The stages meet only through Kafka, so producers, stream_processors, sinks, api and notifier never
import each other. schemas imports nothing of ours, and no product package imports the simulator.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STAGES = frozenset({"producers", "stream_processors", "sinks", "api", "notifier"})
PRODUCT = STAGES | {"schemas", "migrations"}
OURS = PRODUCT | {"farmstream", "simulator", "tests"}


def imported_packages(source: str, module: str) -> set[str]:
    """Return the top-level packages of ours that a module's source imports, resolving relative imports."""
    imported: set[str] = set()
    package_parts = module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module is not None:
                imported.add(node.module.split(".")[0])
            elif node.level > 0:
                base = package_parts[: len(package_parts) - (node.level - 1)]
                target = [*base, *(node.module.split(".") if node.module else [])]
                if target:
                    imported.add(target[0])
    return imported & OURS


def violations(package: str, imported: set[str]) -> list[str]:
    """Return the rules that a module of the package breaks by importing those packages."""
    broken = []
    if package == "schemas" and imported - {"schemas"}:
        broken.append(f"schemas imports {sorted(imported - {'schemas'})}")
    if package in STAGES and (imported & STAGES) - {package}:
        broken.append(f"stage {package} imports stage {sorted((imported & STAGES) - {package})}")
    if package in PRODUCT and "simulator" in imported:
        broken.append(f"product package {package} imports simulator")
    if package in PRODUCT and "farmstream" in imported:
        broken.append(f"product package {package} imports the farmstream command package")
    return broken


def _modules() -> list[tuple[str, Path]]:
    found = []
    for package in sorted(PRODUCT):
        for path in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found.append((module, path))
    return found


def test_product_packages_found() -> None:
    packages = {module.split(".")[0] for module, _ in _modules()}

    assert {"producers", "stream_processors", "sinks", "api", "schemas"} <= packages


@pytest.mark.parametrize(("module", "path"), _modules(), ids=[module for module, _ in _modules()])
def test_module_follows_import_rules(module: str, path: Path) -> None:
    imported = imported_packages(path.read_text(), module)

    assert violations(module.split(".")[0], imported) == []


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("api.routes.x", "from sinks.writer import Writer", "stage api imports stage ['sinks']"),
        ("schemas.x", "import producers", "schemas imports ['producers']"),
        ("sinks.x", "from simulator import portal", "product package sinks imports simulator"),
        ("producers.a.b", "from ...stream_processors import agents", "stage producers imports stage"),
    ],
)
def test_checker_detects_violations(module: str, source: str, expected: str) -> None:
    broken = violations(module.split(".")[0], imported_packages(source, module))

    assert any(rule.startswith(expected) for rule in broken), broken


def test_checker_allows_own_package() -> None:
    imported = imported_packages(
        "from .records import Row\nfrom schemas.events import Reading", "sinks.writer"
    )

    assert imported == {"sinks", "schemas"}
    assert violations("sinks", imported) == []
