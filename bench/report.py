"""Writing a benchmark's results: bench/results/<name>.json and .md, with the machine they ran on."""
from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict:
    cpu = ""
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu or platform.processor(), "cores": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def write(name: str, results: dict, markdown: str, out_dir: Path = RESULTS) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    m = machine()
    (out_dir / f"{name}.json").write_text(json.dumps({"machine": m, **results}, indent=2, default=str) + "\n")
    header = f"_Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}; run {m['date']}._\n\n"
    path = out_dir / f"{name}.md"
    path.write_text(markdown.rstrip() + "\n\n" + header)
    return path


def table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"
