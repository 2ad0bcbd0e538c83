"""`python -m workers`: one clustering worker against REDIS_URL (or the bundled Redis); stops on SIGTERM."""
import logging
import signal

from headline_dedup.cli.service import connect
from headline_dedup.runtime import tune_gc
from headline_dedup.settings import Settings
from workers.clusterer import Clusterer

logging.basicConfig(level=logging.INFO)
settings = Settings()
client, server = connect(settings)
tune_gc()
worker = Clusterer(client, settings)
signal.signal(signal.SIGTERM, lambda *_: worker.stop())
try:
    worker.run()
except KeyboardInterrupt:
    pass
finally:
    if server:
        server.stop()
