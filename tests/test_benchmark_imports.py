"""benchmarks/run.py runs in an environment made by the README's set-up command alone
(`pip install -e .`): nothing it imports may need the test extras (pytest, hypothesis, PyYAML)."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import REPO

BLOCKED = ("pytest", "_pytest", "hypothesis", "yaml", "jsonschema")


def test_the_benchmarks_import_nothing_from_the_test_extras():
    # Every import statement of run.py, also those inside functions (run when measuring).
    tree = ast.parse((REPO / "benchmarks" / "run.py").read_text(encoding="utf-8"))
    imports = [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        or (isinstance(node, ast.ImportFrom) and node.module != "__future__")
    ]
    assert any("tests." in line for line in imports)  # the fakes of the publishing benchmark
    # A module set to None in sys.modules cannot be imported: as if it were not installed.
    code = "\n".join(
        [
            "import sys",
            f"for name in {BLOCKED!r}:",
            "    sys.modules[name] = None",
            f"sys.path.insert(0, {str(REPO)!r})",
            *imports,
            "print('ok')",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
