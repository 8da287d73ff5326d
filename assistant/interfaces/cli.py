"""The command line: ``article-assistant`` (and ``python -m assistant``).

    article-assistant ingest data/articles          # = python -m ingest
    article-assistant ask "Who is Khalil Haqqani?" [--json] [--history "earlier question"]
    article-assistant chat [--article ID] [--llm SPEC]   # a conversation in the terminal
    article-assistant serve [--host 127.0.0.1] [--port 7860]   # the default command
    article-assistant mcp [--read-only]             # the MCP server over stdio, for agents
    article-assistant eval FILE                     # = python -m assistant.eval

This is the entry point that wires the parts together: it sets up the process, reads the
settings, builds the :class:`~assistant.app.Assistant` root and hands it to the command.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.core.errors import AssistantError
from assistant.core.settings import Settings, configure_process

if TYPE_CHECKING:
    from assistant.app import Assistant

COMMANDS = ("ingest", "ask", "chat", "serve", "mcp", "eval")


def _parser(prog: str) -> argparse.ArgumentParser:
    from assistant.eval import command as evaluation
    from ingest import cli as ingest_cli

    parser = argparse.ArgumentParser(
        prog=prog,
        description="Answer questions about news articles with their own cited sentences.",
    )
    commands = parser.add_subparsers(dest="command", metavar="{" + ",".join(COMMANDS) + "}")
    ingest_cli.add_arguments(commands.add_parser("ingest", help="add, list or remove articles"))
    ask = commands.add_parser("ask", help="answer one question and print it with its citations")
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument("--history", action="append", default=[], metavar="QUESTION",
                     help="an earlier question of the conversation (repeat, oldest first)")  # fmt: skip
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    chat = commands.add_parser("chat", help="a conversation in the terminal, with follow-ups and /commands")
    for command in (ask, chat):
        command.add_argument("--article", action="append", metavar="ID",
                             help="only search this article (repeatable)")  # fmt: skip
        command.add_argument("--llm", metavar="SPEC",
                             help="a chat model to write the answer, each sentence checked against its "
                             "sources: local, ollama:llama3.2, openai:gpt-4o-mini... "
                             "(default: $ASSISTANT_LLM)")  # fmt: skip
    serve = commands.add_parser(
        "serve", help="serve the browser chat, the JSON API, the OpenAI-compatible endpoint and MCP (default)"
    )
    serve.set_defaults(usage_error=serve.error)
    serve.add_argument("--host", help="address to bind (default: $GRADIO_SERVER_NAME or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: $GRADIO_SERVER_PORT or 7860)")
    serve.add_argument("--workers", type=int, default=1, metavar="N",
                       help="processes answering behind the one port (default: 1)")  # fmt: skip
    serve.add_argument("--read-only", action="store_true", default=None,
                       help="chat, API and MCP add and remove nothing ($ASSISTANT_READ_ONLY)")  # fmt: skip
    serve.add_argument("--insecure", action="store_true",
                       help="allow binding a non-loopback address without logins and API tokens")  # fmt: skip
    mcp = commands.add_parser("mcp", help="serve the MCP tools over stdio, for an agent to start")
    mcp.add_argument("--read-only", action="store_true", default=None,
                     help="add and remove no article ($ASSISTANT_READ_ONLY)")  # fmt: skip
    evaluation.add_arguments(commands.add_parser("eval", help="score the answers on a question set"))
    for command in (ask, chat, serve, mcp):
        command.add_argument(
            "--store", type=Path, help="store folder (default: $ASSISTANT_STORE or vectorstore/)"
        )
    return parser


def main(argv: list[str] | None = None, prog: str = "article-assistant") -> int:
    """Run a command; 0 on success, 1 on an error the user can fix, 2 on bad usage."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["serve", *argv]  # the chat is the default command
    args = _parser(prog).parse_args(argv)
    if args.command == "serve" and args.workers < 1:
        args.usage_error("--workers takes a number of processes, 1 or more")
    configure_process()
    if args.command == "ingest":
        from ingest import cli as ingest_cli

        return ingest_cli.run(args)
    try:
        if args.command == "eval":
            from assistant.eval import command as evaluation

            return evaluation.run(args, Settings.from_env())
        from assistant.app import Assistant

        root = Assistant.from_settings(settings_of(args))
        if args.command == "ask":
            return _ask(root, args)
        if args.command == "chat":
            from assistant.interfaces.terminal import chat

            return chat(root, args.article)
        if args.command == "mcp":
            return _mcp(root)
        return _serve(root, args)
    except AssistantError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def settings_of(args: argparse.Namespace) -> Settings:
    """The settings of the environment with the command's flags over them: every part the root
    builds (the chat's link rules too) sees the address the chat is served on."""
    flags = {name: getattr(args, name, None) for name in ("store", "llm", "host", "port", "read_only")}
    return Settings.from_env(**flags)


def _ask(root: Assistant, args: argparse.Namespace) -> int:
    reply = root.answer(args.question, args.history, args.article)
    if args.json:
        print(json.dumps(reply.to_dict(), indent=2, ensure_ascii=False))
    else:  # the short answer in bold on a terminal
        print(reply.as_text(bold=(lambda text: f"\033[1m{text}\033[0m") if sys.stdout.isatty() else str))
    return 0


def _serve(root: Assistant, args: argparse.Namespace) -> int:
    from assistant.interfaces.server import serve

    serve(root, insecure=args.insecure, workers=args.workers)
    return 0


def _mcp(root: Assistant) -> int:
    from assistant.interfaces.mcp_server import build_mcp

    build_mcp(root).run("stdio")  # stdout is the protocol's alone while it runs; logs go to stderr
    return 0
