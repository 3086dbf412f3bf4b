"""The order of the packages that decide how long a contact is kept: retention (the policy)
lowest, then holds, then privacy, and lifecycle above all three. A lower one never imports a
higher one, so the sweep and erasure can consult them all without an import cycle.

Only entry points (HTTP route modules) of a lower package may reach up, and they should not
need to: the exceptions are listed here by name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import archive

pytestmark = pytest.mark.fast

ROOT = Path(archive.__file__).parent
ORDER = ["retention", "holds", "privacy", "lifecycle"]
# Routes that still start lifecycle work themselves (erasure); each is an entry point.
ENTRY_POINTS_REACHING_UP = {"privacy/routes.py": {"lifecycle"}}


def imported_packages(path: Path) -> set[str]:
    """The `archive.<package>` names a module imports, at its top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found |= {name.split(".")[1] for name in names if name.startswith("archive.")}
    return found


@pytest.mark.parametrize("package", ORDER[:-1])
def test_a_package_imports_none_above_it(package: str) -> None:
    above = set(ORDER[ORDER.index(package) + 1 :])
    wrong = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        name = str(path.relative_to(ROOT))
        reaching = (imported_packages(path) & above) - ENTRY_POINTS_REACHING_UP.get(name, set())
        if reaching:
            wrong[name] = sorted(reaching)
    assert wrong == {}


def test_the_listed_exceptions_are_entry_points() -> None:
    for name in ENTRY_POINTS_REACHING_UP:
        assert name.endswith(("/routes.py", "_routes.py")), name
