"""A conversation as Markdown: each question, its answer with its [n] markers, and the cited
sentences with where they come from (title, site, date, address or file name), for a reader
to keep or share outside the chat."""

from __future__ import annotations

from collections.abc import Sequence

from assistant.core.records import RELATED, Citation, Turn

_ESCAPED = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>#|"})


def _md(text: str) -> str:
    """``text`` as Markdown that shows it as written (no emphasis, link or heading of its own)."""
    return " ".join(text.split()).translate(_ESCAPED)


def _source(n: int | None, c: Citation) -> str:
    """Citation ``n`` as a list item, or an unnumbered quote when ``n`` is None."""
    if c.url:
        origin = f" <{c.url}>" if not set(c.url) & set(" <>\n") else f" {_md(c.url)}"
    else:
        origin = f" ({_md(c.file)})" if c.file else ""
    where = f", {_md(c.byline)}" if c.byline else ""
    marker = "" if n is None else f"{n}. "
    return f"{marker}“{_md(c.text)}” — *{_md(c.title)}*{where}, {c.place}{origin}"


def transcript(turns: Sequence[Turn], title: str = "Conversation") -> str:
    """The conversation ``turns`` as a Markdown document."""
    lines = [f"# {_md(title)}", ""]
    for turn in turns:
        answer = turn.answer
        lines += [f"**Q:** {_md(turn.question)}", ""]
        if answer is None:
            continue
        if answer.short and not answer.abstained:
            lines += [f"**{_md(answer.short.text)}**", ""]
        lines += [f"**A:** {_md(answer.text)}", ""]
        if answer.citations:
            lines += ["Sources:", "", *(_source(n, c) for n, c in answer.numbered()), ""]
        if answer.related:
            lines += [f"{RELATED}:", "", _source(None, answer.related), ""]
        if answer.note:
            lines += [f"*Note: {_md(answer.note)}*", ""]
    return "\n".join(lines).rstrip() + "\n"
