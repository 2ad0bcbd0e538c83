"""`python -m workers`: one clustering worker (the same as `headline-dedup worker`)."""
import logging
import sys

from headline_dedup.cli.main import main

logging.basicConfig(level=logging.INFO)
sys.exit(main(["worker"]))
