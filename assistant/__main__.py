"""``python -m assistant``: the ``article-assistant`` command line."""

import sys

from assistant.interfaces.cli import main

sys.exit(main(prog="python -m assistant"))
