"""``python -m ingest``: the same as ``article-assistant ingest``."""

import sys

from ingest.cli import main

sys.exit(main())
