"""`python -m headline_dedup.workers`: one clustering worker (the same as `headline-dedup worker`)."""
import sys

from headline_dedup.cli.main import main

sys.exit(main(["worker"]))
