"""``python -m ingest``: add, list and remove articles in the store."""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from assistant.errors import AssistantError
from assistant.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ingest",
        description="Ingest articles (.txt, .md, .html files, or folders of them) into the "
        "store; list or remove ingested articles.",
    )
    parser.add_argument("paths", nargs="*", type=Path, help="files or folders to ingest")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--list", action="store_true", help="list the ingested articles")
    action.add_argument("--remove", metavar="ID", action="append", help="remove an article by id")
    parser.add_argument("--store", type=Path, help="store folder (default: $ASSISTANT_STORE or vectorstore/)")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command; 0 on success, 1 when anything failed, 2 on bad usage."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.paths and not args.list and not args.remove:
        parser.error("give files or folders to ingest, --list or --remove ID")
    if args.paths and (args.list or args.remove):
        parser.error("--list and --remove take no paths")
    settings = Settings().with_overrides(store=args.store)
    try:
        if args.list:
            return _list(settings, args.json)
        if args.remove:
            status, changed = _remove(settings, args.remove)
        else:
            status, changed = _ingest(settings, args.paths, args.json, show_progress=not args.quiet)
        if changed:
            _prepare_search(settings, quiet=args.quiet)
        return status
    except AssistantError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: run the same command again to finish", file=sys.stderr)
        return 130


def _ingest(settings: Settings, paths: list[Path], as_json: bool, show_progress: bool) -> tuple[int, bool]:
    from ingest.pipeline import ingest_paths

    report = ingest_paths(paths, settings, show_progress=show_progress and sys.stderr.isatty())
    if as_json:
        print(json.dumps([asdict(o) for o in report.outcomes], indent=2))
    else:
        for o in report.outcomes:
            if o.status in ("added", "updated", "skipped", "failed") or o.detail:
                plural = "" if o.sentences == 1 else "s"
                extra = f" ({o.sentences} sentence{plural})" if o.sentences and o.status != "failed" else ""
                reason = f": {o.detail}" if o.detail else ""
                print(f"{o.status:>9}  {o.source}{extra}{reason}")
        print(report.summary())
    changed = any(o.status in ("added", "updated") for o in report.outcomes)
    return (1 if report.failures else 0), changed


def _list(settings: Settings, as_json: bool) -> int:
    from assistant.store import Store

    articles = Store(settings).articles()
    if as_json:
        print(json.dumps([asdict(a) for a in articles], indent=2))
        return 0
    if not articles:
        print(f"no articles in {settings.store_label}: add some with `python -m ingest PATH`")
        return 0
    width = max(len(a.article_id) for a in articles)
    for a in articles:
        print(f"{a.article_id:<{width}}  {a.sentence_count:>5} sentences  {a.title}  [{a.source}]")
    return 0


def _remove(settings: Settings, ids: list[str]) -> tuple[int, bool]:
    from assistant.store import Store

    store = Store(settings)
    status, changed = 0, False
    for article_id in ids:
        if store.remove_article(article_id):
            print(f"removed {article_id}")
            changed = True
        else:
            print(
                f"error: no article with id {article_id!r}; see `python -m ingest --list`",
                file=sys.stderr,
            )
            status = 1
    return status, changed


def _prepare_search(settings: Settings, quiet: bool) -> None:
    """Index the changed store for search now and save it, so that the first question after
    this command loads the index instead of building it (31 s against 3 s at 100k sentences).
    The store is already changed, so a failure here only warns."""
    from assistant import corpus

    started = time.perf_counter()
    try:
        sentences = corpus.prepare(settings)
    except Exception as e:  # the ingest itself succeeded: the next question builds the index
        print(f"warning: the search index was not saved ({e}); the next question builds it", file=sys.stderr)
        return
    if not quiet:
        elapsed = time.perf_counter() - started
        print(f"search index: {sentences:,} sentences in {elapsed:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
