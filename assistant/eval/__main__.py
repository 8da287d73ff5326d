"""``python -m assistant.eval``: the same as ``article-assistant eval``."""

import sys

from assistant.eval.command import main

sys.exit(main())
