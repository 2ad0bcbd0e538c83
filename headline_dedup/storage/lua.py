"""The service's Lua scripts (in `scripts/`), and the one way they are run."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from redis.cluster import ClusterPipeline
from redis.commands.core import Script

SCRIPTS = Path(__file__).parent / "scripts"


def source(name: str) -> str:
    """The text of the script `name` (e.g. "commit.lua")."""
    return (SCRIPTS / name).read_text(encoding="utf-8")


def run(script: Script, keys: Sequence, args: Sequence, client):
    """Run `script` with `keys` and `args` on `client`, a client or a pipeline (queued there). In a Redis Cluster
    pipeline it goes as EVAL with its text: such a pipeline does not load scripts before it executes (redis-py's
    single-node pipeline does), and a replica that a failover promoted has none cached."""
    if isinstance(client, ClusterPipeline):
        return client.execute_command("EVAL", script.script, len(keys), *keys, *args)
    return script(keys=keys, args=args, client=client)
