"""Writing a benchmark's results: bench/results/<name>.json and .md, with the machine they ran on."""
from __future__ import annotations

import json
import os
import platform
import time
from contextlib import contextmanager
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


@contextmanager
def figure(path: Path, title: str, xlabel: str, ylabel: str):
    """A matplotlib axis to draw on; saved as the PNG `path` (with a grid, y from 0) when the block ends."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    yield ax
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
