"""``python -m assistant``: the ``article-assistant`` command line."""

import sys

from assistant.interfaces.cli import main

if __name__ == "__main__":  # not in a worker process started from this one
    sys.exit(main(prog="python -m assistant"))
