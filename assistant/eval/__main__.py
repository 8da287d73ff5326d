"""``python -m assistant.eval``: the same as ``article-assistant eval``."""

import sys

from assistant.eval.command import main

if __name__ == "__main__":  # not in a worker process started from this one
    sys.exit(main())
