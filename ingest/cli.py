"""``python -m ingest`` (also ``article-assistant ingest``): add, list and remove articles."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import asdict
from pathlib import Path

from assistant.core.errors import AssistantError
from assistant.core.library import LinkOptions
from assistant.core.records import Outcome
from assistant.core.settings import Settings, configure_process
from assistant.core.text import plural
from assistant.storage.store import Store


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ingest command's options."""
    parser.description = (
        "Ingest articles into the store: files (.txt, .md, .html, .pdf), folders of them, web "
        "pages and PDFs by address, and the articles an RSS or Atom feed links to. Also list, "
        "preview or remove articles."
    )
    parser.add_argument("sources", nargs="*", metavar="SOURCE", help="files, folders or http(s) addresses")
    parser.add_argument("--urls", type=Path, metavar="FILE", help="a file of web addresses, one a line")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--list", action="store_true", help="list the ingested articles")
    action.add_argument("--remove", metavar="ID", action="append", help="remove an article by id")
    action.add_argument("--show", action="store_true", help="print what would be stored; store nothing")
    parser.add_argument("--limit", type=int, metavar="N", help="take the N newest articles of a feed")
    parser.add_argument("--timeout", type=float, metavar="S", help="seconds a web address may take (20)")
    parser.add_argument("--store", type=Path, help="store folder (default: $ASSISTANT_STORE or vectorstore/)")
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--verbose", action="store_true", help="log each committed batch of articles on stderr"
    )
    parser.set_defaults(usage_error=parser.error)


def main(argv: list[str] | None = None) -> int:
    """``python -m ingest``: run the command; 0 on success, 1 when anything failed, 2 on bad usage."""
    parser = argparse.ArgumentParser(prog="python -m ingest")
    add_arguments(parser)
    return run(parser.parse_args(argv))


def run(args: argparse.Namespace) -> int:
    """Run the parsed ingest command (see :func:`add_arguments`)."""
    sources = [*args.sources, *_addresses(args)]
    if not sources and not args.list and not args.remove:
        args.usage_error("give files, folders or web addresses to ingest, --urls FILE, --list or --remove ID")
    if sources and (args.list or args.remove):
        args.usage_error("--list and --remove take no sources")
    if args.show and not sources:
        args.usage_error("--show needs the sources to preview")
    if args.limit is not None and args.limit < 1:
        args.usage_error("--limit takes a number of articles, 1 or more")
    if args.timeout is not None and not args.timeout > 0:  # 0, negative or nan
        args.usage_error("--timeout takes a number of seconds, more than 0")
    configure_process()
    if args.verbose:
        _log_progress()
    try:
        settings = Settings.from_env(store=args.store, fetch_timeout=args.timeout)
        links = LinkOptions(timeout=settings.fetch_timeout, allow_private=True, feed_limit=args.limit)
        if args.show:  # a preview reads and splits only: the store is never opened
            return _show(sources, links, args.json)
        store = Store(settings)
        if args.list:
            return _list(store, settings, args.json)
        if args.remove:
            status, changed = _remove(store, args.remove)
        else:
            status, changed = _ingest(
                store, settings, sources, links, args.json, show_progress=not args.quiet
            )
        if changed:
            _prepare_search(settings, quiet=args.quiet)
        return status
    except AssistantError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: run the same command again to finish", file=sys.stderr)
        return 130


def _addresses(args: argparse.Namespace) -> list[str]:
    """The web addresses of ``--urls FILE``: one a line, blank lines and ``#`` comments left out."""
    if args.urls is None:
        return []
    try:
        lines = args.urls.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        args.usage_error(f"cannot read --urls {args.urls}: {getattr(e, 'strerror', None) or e}")
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _log_progress() -> None:
    """Show the ingest's own progress messages (each committed batch) on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("ingest")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def _ingest(
    store: Store,
    settings: Settings,
    sources: list[str],
    links: LinkOptions,
    as_json: bool,
    show_progress: bool,
) -> tuple[int, bool]:
    from assistant.storage.embedder import Embedder
    from ingest.pipeline import Library

    library = Library(store, settings, lambda: Embedder(settings.embedding_backend, settings.model_cache))
    report = library.add_sources(sources, links, show_progress=show_progress and sys.stderr.isatty())
    if as_json:
        print(json.dumps([asdict(o) for o in report.outcomes], indent=2))
    else:
        for o in report.outcomes:
            if o.status in ("added", "updated", "skipped", "failed") or o.detail:
                counted = o.sentences and o.status != "failed"
                extra = f" ({plural(o.sentences, 'sentence')})" if counted else ""
                reason = f": {o.detail}" if o.detail else ""
                print(f"{o.status:>9}  {o.source}{extra}{reason}")
        print(report.summary())
    return (1 if report.failures else 0), report.changed


def _show(sources: list[str], links: LinkOptions, as_json: bool) -> int:
    """Print what each source would be stored as; exit 1 when any would fail. Stores nothing."""
    from ingest.pipeline import preview

    failed = False
    for item in preview(sources, links):
        if isinstance(item, Outcome):
            failed |= item.status == "failed"
            print(
                json.dumps({"source": item.source, "status": item.status, "error": item.detail})
                if as_json
                else f"{item.status:>9}  {item.source}: {item.detail}"
            )
            continue
        view = {
            "source": item.source,
            "url": item.meta.url,
            "title": item.title,
            "published": item.meta.published,
            "author": item.meta.author,
            "site": item.meta.site,
            "text": item.text,
            "sentences": len(item.sentences),
        }
        if as_json:
            print(json.dumps(view, ensure_ascii=False))
        else:
            print(f"== {item.title}  [{item.source}]")
            for key in ("url", "published", "author", "site", "sentences"):
                if view[key] is not None:
                    print(f"{key}: {view[key]}")
            print(f"\n{item.text}\n")
    return 1 if failed else 0


def _list(store: Store, settings: Settings, as_json: bool) -> int:
    articles = store.articles()
    if as_json:
        listed = [{**a.to_dict(), "source": a.source} for a in articles]  # the path: on the server only
        print(json.dumps(listed, indent=2, ensure_ascii=False))
        return 0
    if not articles:
        print(f"no articles in {settings.store_label}: add some with `python -m ingest PATH`")
        return 0
    width = max(len(a.article_id) for a in articles)
    counts = [plural(a.sentence_count, "sentence") for a in articles]
    count_width = max(len(count) for count in counts)
    for a, count in zip(articles, counts, strict=True):
        where = f" ({a.byline})" if a.byline else ""
        print(f"{a.article_id:<{width}}  {count:>{count_width}}  {a.title}{where}  [{a.source}]")
    return 0


def _remove(store: Store, ids: list[str]) -> tuple[int, bool]:
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
    from assistant.storage import corpus

    started = time.perf_counter()
    try:
        sentences = corpus.prepare(settings)
    except Exception as e:  # the ingest itself succeeded: the next question builds the index
        print(f"warning: the search index was not saved ({e}); the next question builds it", file=sys.stderr)
        return
    if not quiet:
        elapsed = time.perf_counter() - started
        print(f"search index: {plural(sentences, 'sentence')} in {elapsed:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
