"""Body extraction on saved news pages: the text our ingest stores against hand-checked bodies.

    python bench/extraction.py                         # the 61 shared pages
    python bench/extraction.py --pages DIR --truth FILE --json

Each page (``DIR/<id>.html.gz``) goes through exactly what ingest does to a web page,
:func:`ingest.html.read_html` then :func:`ingest.split.build_article`, and the stored
``Article.text`` (the title is stored apart, so it is not part of the body) is scored with
the shared ``score.py``: word 4-gram F1, precision and recall per page, averaged. A page
ingest refuses scores as an empty body. Each page is read with its address from the truth
file, as a fetched page would be (a saved file has none; on the 61 pages only the metadata
``url`` of one page without a canonical link differs). Also counts the pages whose published date,
author and site were found, and times each page's reading (after one untimed read: the first
in a process sets the libraries up, about a second). Deterministic; no network.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType

from assistant.core.errors import IngestError
from assistant.core.records import Metadata
from ingest.html import read_html
from ingest.split import build_article

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "eval" / "html-extraction"
META_FIELDS = ("published", "author", "site")


def _score_module() -> ModuleType:
    """The shared ``score.py``, imported from its file."""
    spec = importlib.util.spec_from_file_location("html_extraction_score", DATA / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def stored_body(html: str, source: str, url: str | None) -> tuple[str, Metadata | None]:
    """The text ingest stores for a page and the page's metadata; ("", None) when it is refused."""
    try:
        raw = read_html(html, source, url)
        return build_article(raw).text, raw.meta
    except IngestError:
        return "", None


def _read(path: Path) -> str:
    return gzip.decompress(path.read_bytes()).decode("utf-8")


def run(pages: Path, truth_file: Path) -> dict:
    """Scores, metadata counts and per-page timings over the pages of ``truth_file``."""
    truth = json.loads(truth_file.read_text(encoding="utf-8"))
    paths = {page_id: pages / f"{page_id}.html.gz" for page_id in sorted(truth)}
    stored_body(_read(next(iter(paths.values()))), "warm-up", None)  # the libraries' one-off set-up
    predicted, found, millis = {}, dict.fromkeys(META_FIELDS, 0), []
    for page_id, path in paths.items():
        html = _read(path)
        start = time.perf_counter()
        body, meta = stored_body(html, str(path), truth[page_id].get("url"))
        millis.append((time.perf_counter() - start) * 1000)
        predicted[page_id] = {"articleBody": body}
        for name in META_FIELDS:
            found[name] += bool(meta and getattr(meta, name))
    return {
        **_score_module().score(truth, predicted),
        "refused": sum(1 for p in predicted.values() if not p["articleBody"]),
        "found": found,
        "ms_per_page": {
            "mean": round(statistics.fmean(millis)),
            "median": round(statistics.median(millis)),
            "max": round(max(millis)),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=Path, default=DATA / "html", help="folder of <id>.html.gz pages")
    parser.add_argument("--truth", type=Path, default=DATA / "ground-truth.json", help="ground-truth JSON")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    result = run(args.pages, args.truth)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    pages, found, ms = result["pages"], result["found"], result["ms_per_page"]
    print(
        f"{pages} pages: body F1 {result['f1']:.4f}, precision {result['precision']:.4f}, "
        f"recall {result['recall']:.4f}; refused {result['refused']}"
    )
    print(", ".join(f"{name} found on {found[name]}/{pages}" for name in META_FIELDS))
    print(f"ms per page: mean {ms['mean']}, median {ms['median']}, max {ms['max']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
