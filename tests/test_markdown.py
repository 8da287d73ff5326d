"""Markdown: parsed, not stripped; each block a paragraph, markup reduced to its words."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.core.errors import IngestError
from ingest.loader import read_article
from ingest.markdown import read_markdown

ARTICLE = """# Council approves **new** bridge

The city council voted *7–2* on Tuesday to fund the [Riverside bridge](https://example.org/bridge),
ending a decade of debate.

![Aerial view of the river](img/river.jpg)

## What happens next

Construction starts in March.\\
Work will take two years, says the [plan][p] at <https://example.org/plan>.

- Phase one: foundations
- Phase two: the deck, with `steel` girders
  1. nested numbered item

> "This is a historic day," the mayor said.
>
> A second quoted paragraph.

| Vote | Count |
|------|------:|
| For  | 7     |

```sh
curl https://example.org/vote.json
```

<div class="ad">Advertisement</div>

A [![badge](badge.png)](https://example.org) last line with a <span>small</span> tag.

[p]: https://example.org/plan
"""


def test_blocks_become_paragraphs_and_markup_its_words() -> None:
    raw = read_markdown(ARTICLE, "/notes/bridge.md")
    assert raw.title == "Council approves new bridge"
    assert raw.paragraphs == (
        "The city council voted 7–2 on Tuesday to fund the Riverside bridge, ending a decade of debate.",
        "What happens next",
        "Construction starts in March. Work will take two years, says the plan at https://example.org/plan.",
        "Phase one: foundations",
        "Phase two: the deck, with steel girders",
        "nested numbered item",
        '"This is a historic day," the mayor said.',
        "A second quoted paragraph.",
        "Vote | Count",
        "For | 7",
        "curl https://example.org/vote.json",
        "A last line with a small tag.",
    )


def test_without_a_heading_the_first_line_is_the_title() -> None:
    raw = read_markdown("Ferry *news*\n\nThe ferry left at noon.\n", "/notes/ferry.md")
    assert (raw.title, raw.paragraphs) == ("Ferry news", ("The ferry left at noon.",))


def test_a_setext_heading_is_a_title() -> None:
    raw = read_markdown("Ferry news\n==========\n\nThe ferry left at noon.\n", "/notes/ferry.md")
    assert (raw.title, raw.paragraphs) == ("Ferry news", ("The ferry left at noon.",))


@pytest.mark.parametrize(
    "front",
    [
        '---\ntitle: "Ferry news"\ndate: 2024-05-03\ntags: [harbour]\n---\n',
        "+++\r\ntitle = 'Ferry news'\r\ndraft = false\r\n+++\r\n",
    ],
)
def test_front_matter_is_not_text_and_gives_the_title(front: str) -> None:
    raw = read_markdown(front + "\n# Ferry news\n\nThe ferry left at noon.\n", "/notes/ferry.md")
    assert (raw.title, raw.paragraphs) == ("Ferry news", ("The ferry left at noon.",))
    other = read_markdown(front + "\n## Monday\n\nThe ferry left at noon.\n", "/notes/ferry.md")
    assert (other.title, other.paragraphs) == ("Ferry news", ("Monday", "The ferry left at noon."))


@pytest.mark.parametrize("text", ["", "![only](a.png)\n", "---\ntitle:\nauthor: Jo\n---\n\n<div>x</div>\n"])
def test_markdown_without_words_has_no_text(text: str) -> None:
    with pytest.raises(IngestError, match=r"^/notes/empty\.md: no text found$"):
        read_markdown(text, "/notes/empty.md")


def test_both_suffixes_are_read_as_markdown(tmp_path: Path) -> None:
    for suffix in (".md", ".markdown"):
        path = tmp_path / f"market{suffix}"
        path.write_text("# Market day\n\n- Prices were **low**.\n")
        raw = read_article(path)
        assert (raw.title, raw.paragraphs) == ("Market day", ("Prices were low.",))
