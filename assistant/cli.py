"""``python -m assistant``: ask from the terminal, or serve the browser chat.

python -m assistant ask "Who is Khalil Haqqani?" [--json] [--history "earlier question"]
python -m assistant [serve] [--host 127.0.0.1] [--port 7860]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.errors import AssistantError
from assistant.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m assistant",
        description="Answer questions about ingested news articles with their own cited sentences.",
    )
    parser.add_argument("--store", type=Path, help="store folder (default: $ASSISTANT_STORE or vectorstore/)")
    commands = parser.add_subparsers(dest="command")
    ask = commands.add_parser("ask", help="answer one question and print it with its citations")
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument("--history", action="append", default=[], metavar="QUESTION",
                     help="an earlier question of the conversation (repeat, oldest first)")  # fmt: skip
    ask.add_argument("--article", action="append", metavar="ID", help="only search this article (repeatable)")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    serve = commands.add_parser("serve", help="serve the browser chat (the default command)")
    serve.add_argument("--host", help="address to bind (default: $GRADIO_SERVER_NAME or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: $GRADIO_SERVER_PORT or 7860)")
    serve.add_argument("--insecure", action="store_true",
                       help="allow binding a non-loopback address without authentication")  # fmt: skip
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command; 0 on success, 1 on an error the user can fix, 2 on bad usage."""
    args = _parser().parse_args(argv)
    settings = Settings().with_overrides(store=args.store)
    try:
        if args.command == "ask":
            from assistant.answerer import answer

            reply = answer(args.question, args.history, article_ids=args.article, settings=settings)
            print(json.dumps(reply.to_dict(), indent=2, ensure_ascii=False) if args.json else reply.as_text())
            return 0
        from assistant.ui import serve

        app = serve(settings, host=getattr(args, "host", None), port=getattr(args, "port", None),
                    insecure=getattr(args, "insecure", False))  # fmt: skip
        print(f"The chat is at {app.local_url} (Ctrl+C stops it)", flush=True)
        app.block_thread()
        return 0
    except AssistantError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
