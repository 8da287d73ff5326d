"""``python -m ingest``: the same as ``article-assistant ingest``."""

import sys

from ingest.cli import main

if __name__ == "__main__":  # not in a worker process started from this one
    sys.exit(main())
