"""`python -m workers`: one clustering worker against REDIS_URL (or the bundled Redis); stops on SIGTERM."""
import logging

from headline_dedup.cli.service import connect
from headline_dedup.settings import Settings
from workers.clusterer import run_until_signalled

logging.basicConfig(level=logging.INFO)
settings = Settings()
client, server = connect(settings)
try:
    run_until_signalled(client, settings)
finally:
    if server:
        server.stop()
