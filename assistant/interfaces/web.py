"""The browser chat, built with Gradio: :func:`build_app` makes the page over :class:`ChatPage`.

The page has three parts:

- the chat: each reply shows the answer with its [n] markers and, beneath, the numbered
  cited sentences with their article titles; the page keeps the conversation as typed turns
  (each question with its answer), so a follow-up never makes an earlier turn be answered again;
- the article view beside it: the cited article's cleaned text with the cited sentences
  highlighted and numbered like the markers, scrolled to the first one, with a switch
  between the articles when a reply cites several;
- the articles panel: the ingested articles, which of them to ask about, adding one by
  upload or pasted text (through the :class:`~assistant.core.library.Library` the entry point
  hands in: the CLI's ingest code) and removing one.

The handlers live in :class:`ChatPage`, plain Python that tests call without a browser; it
answers through the :class:`~assistant.answering.answerer.Answerer` protocol. Gradio's message
dicts stay here: the core sees questions and :class:`~assistant.core.records.Turn` records.
Gradio shows chat messages as HTML (even with Markdown off), so every text that comes from
a user or an article is escaped with :func:`html.escape` before it reaches the page, and
the Chatbot's sanitiser stays on behind that. The function :func:`chat_reply` is the API
endpoint ``/chat`` for ``gradio_client``: question in, reply text out.
"""

from __future__ import annotations

import functools
import html
import ipaddress
import logging
import queue
import re
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.answering.answerer import Answerer, Streaming
from assistant.answering.conversation import clean_question
from assistant.answering.wording import Messages
from assistant.app import Assistant
from assistant.core.errors import AssistantError, EmptyStoreError, InvalidQuestionError
from assistant.core.library import Follow, Library, LinkOptions
from assistant.core.records import (
    RELATED,
    UNSUPPORTED,
    Answer,
    ArticleInfo,
    Citation,
    IngestProgress,
    Outcome,
    Short,
    Turn,
    source_line,
)
from assistant.core.text import plural
from assistant.interfaces.transcript import transcript
from assistant.storage.store import Store

log = logging.getLogger(__name__)

ChatHistory = list[dict[str, Any]]  # Gradio chat messages: {"role": ..., "content": ...}

QUOTED = ""  # the answer choice that quotes the articles' sentences (no chat model writes)
FEED_LIMIT = 20  # a feed added from the page brings at most its 20 newest articles
# System fonts only: the page loads nothing from outside this server.
THEME = gr.themes.Default(
    font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
)

# Scroll the article view so that the focused (else the first) highlighted sentence is in
# sight, on every update; and a click on a citation's link in the chat ("#cite-TURN-N")
# opens that sentence of its article here (the view's "click" event, with the turn and n).
ARTICLE_VIEW_JS = """
const scroll = () => {
  const box = element.querySelector('.article-scroll');
  if (!box) return;
  const focus = box.dataset.focus;
  const chosen = focus && box.querySelector(`mark.cited[data-n="${focus}"]`);
  const mark = chosen || box.querySelector('mark.cited');
  if (mark) box.scrollTop = Math.max(0, mark.offsetTop - 24);
};
watch('value', scroll);
scroll();
document.addEventListener('click', (event) => {
  const link = event.target.closest && event.target.closest('#chat a[href^="#cite-"]');
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  const [turn, n] = link.getAttribute('href').slice(6).split('-').map(Number);
  trigger('click', {turn: turn, n: n});
}, true);
"""

CSS = """
.reply .answer { margin: 0 0 .6em; }
.reply .short { margin: 0 0 .4em; font-size: 1.05em; }
.reply.draft .answer { color: var(--body-text-color-subdued); font-style: italic; }
.reply .rejected { border-top: 1px dashed var(--border-color-primary); margin-top: .4em; padding-top: .3em; }
.reply .rejected .claim { color: var(--body-text-color-subdued); font-size: .92em; margin: 0 0 .3em; }
.reply .cited { border-top: 1px solid var(--border-color-primary); padding-top: .4em; font-size: .92em; }
.reply .related { border-left: 3px solid var(--border-color-primary); padding-left: .6em; font-size: .92em; }
.reply .related .quote { margin: 0 0 .2em; font-style: italic; }
.reply .cited-heading { font-weight: 600; margin: 0 0 .3em; }
.reply .citation { margin: 0 0 .4em; }
.reply .citation, .reply .hint, #article-view .meta, #article-list .src {
  color: var(--body-text-color-subdued);
}
.notice { color: var(--error-text-color); }
#panel-status .ok { color: var(--color-accent); }
#article-view .article-head h3 { margin: 0; overflow-wrap: anywhere; }
#article-view .article-scroll {
  position: relative; max-height: 540px; overflow-y: auto; margin-top: .5em;
  padding: .6em .8em; border: 1px solid var(--border-color-primary); border-radius: 8px;
}
#article-view .article-text { white-space: pre-wrap; overflow-wrap: anywhere; line-height: 1.55; }
#article-view mark.cited { background: #fde68a; color: #111; border-radius: 3px; padding: 0 2px; }
#article-view sup.cite-n { font-weight: 600; color: var(--color-accent); }
#article-list table { width: 100%; border-collapse: collapse; border: none; }
#article-list tr { border: none; }
#article-list th, #article-list td {
  text-align: left; padding: .3em .5em; overflow-wrap: anywhere;
  border: none; border-bottom: 1px solid var(--border-color-primary);
}
#article-list th, #article-list td.date { white-space: nowrap; }
#article-list td.num { text-align: right; }
"""


def chat_reply(answerer: Answerer, messages: Messages, message: str, history: Sequence[object] | None) -> str:
    """The chat's reply to ``message`` as text, after the earlier questions ``history`` (strings,
    or Gradio message dicts whose user turns are taken): the answer with its citations, or the error."""
    try:
        return answerer.answer(message, user_questions(history)).as_text(messages.sources_heading)
    except AssistantError as e:
        return f"⚠ {e}"


def user_questions(history: Sequence[object] | None) -> list[str]:
    """The earlier questions of a conversation given as strings or as Gradio message dicts
    (``{"role": "user", "content": ...}``, content as text or Gradio 6 parts), oldest first."""
    questions = []
    for item in history or ():
        if isinstance(item, dict):
            if item.get("role") != "user":
                continue
            item = item.get("content")
            if isinstance(item, list):  # Gradio 6 content parts
                item = " ".join(p.get("text", "") for p in item if isinstance(p, dict))
        if isinstance(item, str) and item.strip():
            questions.append(item.strip())
    return questions


# -- rendering: every text from a user or an article goes through html.escape ----------------


def notice_html(message: str) -> str:
    """An error or warning shown on the page."""
    return f'<p class="notice">⚠ {html.escape(message)}</p>'


def reply_html(answer: Answer, messages: Messages, turn: int = 0) -> str:
    """A chat reply: the short answer, the answer with its [n] markers, a source line per
    citation; a generated answer's unsupported sentences apart, and its note. ``turn`` is the
    reply's place in the conversation: a citation links to its sentence in the article view
    (``#cite-TURN-N``), and to the article's web address when it has one."""
    extra = _rejected_html(answer)
    if answer.abstained:
        return (
            f'<div class="reply abstained"><p class="answer">{html.escape(answer.text)}</p>'
            f"{_related_html(answer)}"
            f'<p class="hint">{html.escape(messages.ui["abstain_hint"])}</p>{extra}</div>'
        )
    sources = "".join(f'<p class="citation">{_citation_html(turn, n, c)}</p>' for n, c in answer.numbered())
    cited = (
        f'<div class="cited"><p class="cited-heading">{html.escape(messages.sources_heading)}</p>'
        f"{sources}</div>"
        if sources
        else ""
    )
    short = f'<p class="short"><b>{html.escape(answer.short.text)}</b></p>' if answer.short else ""
    return f'<div class="reply">{short}<p class="answer">{html.escape(answer.text)}</p>{cited}{extra}</div>'


def _citation_html(turn: int, n: int, c: Citation) -> str:
    """A source line: opens the sentence in the article view; its address links to the page."""
    line = html.escape(source_line(n, c, origin=False))
    return f'<a class="open-cite" href="#cite-{turn}-{n}">{line}</a>{_origin_html(c)}'


def _related_html(answer: Answer) -> str:
    """A declined answer's closest sentence, quoted under a heading that says it is no answer."""
    c = answer.related
    if c is None:
        return ""
    line = html.escape(source_line(None, c, origin=False))
    return (
        f'<div class="related"><p class="cited-heading">{html.escape(RELATED)}</p>'
        f'<p class="quote">“{html.escape(c.text)}”</p><p class="citation">{line}{_origin_html(c)}</p></div>'
    )


def _origin_html(c: Citation) -> str:
    """Where a cited article can be opened: its web address as a link, else its file name."""
    if c.url and c.url.startswith(("https://", "http://")):
        address = html.escape(c.url, quote=True)
        opens = 'target="_blank" rel="noopener noreferrer"'
        return f' · <a class="origin" href="{address}" {opens}>{address}</a>'
    return f" · {html.escape(c.file)}" if c.file else ""


def _rejected_html(answer: Answer) -> str:
    """The sentences a language model wrote that its sources do not support, apart from the
    answer and struck through, and why a written answer fell back to quoted sentences."""
    rejected = "".join(
        f'<p class="claim"><s>{html.escape(c.text)}</s> <span class="why">({html.escape(c.reason)})</span>'
        "</p>"
        for c in answer.rejected()
    )
    block = f'<div class="rejected"><p class="cited-heading">{html.escape(UNSUPPORTED)}</p>{rejected}</div>'
    note = f'<p class="hint note">{html.escape(answer.note)}</p>' if answer.note else ""
    return (block if rejected else "") + note


def draft_html(text: str, messages: Messages) -> str:
    """A written answer as the model writes it, before its sentences are checked."""
    return (
        f'<div class="reply draft"><p class="answer">{html.escape(text)}</p>'
        f'<p class="hint">{html.escape(messages.ui["writing"])}</p></div>'
    )


def article_html(
    info: ArticleInfo,
    text: str,
    marks: Sequence[tuple[int, Citation]],
    messages: Messages,
    short: Short | None = None,
    focus: int | None = None,
) -> str:
    """The article's cleaned text with the cited sentences highlighted, each with its [n], and
    the short answer in bold inside its sentence."""
    parts: list[str] = []
    position, changed = 0, False
    for n, c in sorted(marks, key=lambda mark: mark[1].start):
        if c.start < position or text[c.start : c.end] != c.text:  # the article was replaced
            changed = True
            continue
        parts.append(html.escape(text[position : c.start]))
        inside = html.escape(c.text)
        if short and short.citation == n and c.start <= short.start < short.end <= c.end:
            a, b = short.start - c.start, short.end - c.start
            inside = f"{html.escape(c.text[:a])}<b>{html.escape(c.text[a:b])}</b>{html.escape(c.text[b:])}"
        parts.append(f'<mark class="cited" data-n="{n}">{inside}</mark><sup class="cite-n">[{n}]</sup>')
        position = c.end
    parts.append(html.escape(text[position:]))
    warning = notice_html(messages.ui["article_changed"]) if changed else ""
    at = f' data-focus="{focus}"' if focus else ""
    return (
        f'<div class="article-head"><h3>{html.escape(info.title)}</h3>'
        f'<p class="meta">{html.escape(_meta_line(info))}</p></div>'
        f'{warning}<div class="article-scroll"{at}>'
        f'<div class="article-text">{"".join(parts)}</div></div>'
    )


def _meta_line(info: ArticleInfo) -> str:
    """Site, date, author, sentence count and where it is from (address or file name), the ones known."""
    author = f"by {info.meta.author}" if info.meta.author else ""
    parts = (
        info.meta.site,
        info.meta.published,
        author,
        plural(info.sentence_count, "sentence"),
        info.origin,
    )
    return " · ".join(part for part in parts if part)


def articles_html(articles: Sequence[ArticleInfo], messages: Messages) -> str:
    """The table of ingested articles: title, site, date, sentence count, source."""
    if not articles:
        return f"<p>{html.escape(messages.ui['no_articles'])}</p>"
    rows = "".join(
        f"<tr><td>{html.escape(a.title)}</td><td>{html.escape(a.meta.site or '')}</td>"
        f'<td class="date">{html.escape(a.meta.published or "")}</td><td class="num">{a.sentence_count}</td>'
        f'<td class="src">{html.escape(a.origin)}</td></tr>'
        for a in articles
    )
    return (
        "<table><thead><tr><th>Title</th><th>Site</th><th>Published</th><th>Sentences</th><th>Source</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


def progress_html(now: IngestProgress) -> str:
    """How far adding articles has got, while it goes on."""
    current = f" (the last: {now.current})" if now.current else ""
    done = f"Adding… {plural(now.read, 'article')} read{current}, {plural(now.sentences, 'sentence')} stored"
    return f'<p class="progress">{html.escape(done)}</p>'


def status_html(message: str) -> str:
    """A success message of the articles panel."""
    return f'<p class="ok">{html.escape(message)}</p>'


# -- adding articles from the page, with the CLI's ingest code ---------------------------------

_UNSAFE_NAME_CHARS = re.compile(r"[^\w.\- ()]+")


def safe_file_name(name: str) -> str:
    """The last part of an uploaded file's name, with only safe characters and no leading dots."""
    last = re.split(r"[\\/]", name)[-1]
    return _UNSAFE_NAME_CHARS.sub("_", last).strip(" ._")[:120] or "upload"


class ChatPage:
    """The page's handlers, as plain methods: what each returns is what the page shows."""

    def __init__(
        self,
        answerer: Answerer,
        store: Store,
        messages: Messages,
        library: Library,
        links: LinkOptions,
        writers: Mapping[str, Callable[[], Answerer]] | None = None,
        warm: Callable[[], None] = lambda: None,
        writable: bool = True,
    ) -> None:
        self.answerer = answerer
        self.store = store
        self.messages = messages
        self.library = library
        self.links = links  # how "Add from a link" fetches: private addresses only when allowed
        # chat model spec -> its (generated) answerer, made when first chosen
        self.writers = dict(writers or {})
        self.warm = warm  # loads what a first question needs, before the page is served
        self.writable = writable  # False: the page adds and removes no article (read-only server)

    @classmethod
    def of(cls, root: Assistant) -> ChatPage:
        """The page over a root's answerer, store and library. Served on another address than
        loopback, it fetches no link to a private or local address unless
        ``ASSISTANT_ALLOW_PRIVATE_LINKS`` allows it."""
        settings = root.settings
        private = is_loopback(settings.host) or settings.allow_private_links
        links = LinkOptions(timeout=settings.fetch_timeout, allow_private=private, feed_limit=FEED_LIMIT)
        specs = dict.fromkeys(s for s in (settings.llm, *root.chat_models.offered()) if s)
        writers = {spec: functools.partial(root.answerer_for, spec) for spec in specs}
        return cls(
            root.extractive, root.store, root.messages, root.library, links, writers, root.warm,
            writable=not settings.read_only,
        )  # fmt: skip

    def text(self, key: str) -> str:
        """The page's wording ``key`` (``prompts/extractive.yaml``, under ``ui``)."""
        return self.messages.ui[key]

    # -- chat --------------------------------------------------------------------------------

    def _answerer(self, writer: str | None) -> Answerer:
        return self.writers[writer]() if writer in self.writers else self.answerer

    def _request(
        self, question: str, turns: Sequence[Turn] | None, selected: Sequence[str] | None
    ) -> tuple[str, list[Turn], list[str] | None]:
        """(question, earlier turns, articles asked about), or the error a user can act on."""
        question = clean_question(question)
        if selected is not None and not selected and self.store.articles():
            raise InvalidQuestionError(self.text("no_selection"))
        return question, list(turns or ()), list(selected or ()) or None

    def respond(
        self,
        question: str,
        history: ChatHistory | None,
        selected: Sequence[str] | None,
        writer: str | None = None,
        turns: Sequence[Turn] | None = None,
    ) -> tuple:
        """Submit handler: (question box, chat, cited-article switch, article view, the turns
        with this one's answer).

        An error adds a notice to the chat and leaves the question box, the article view and
        the turns as they were.
        """
        *_, last = self.respond_as_written(question, history, selected, writer, turns)
        return last

    def respond_as_written(
        self,
        question: str,
        history: ChatHistory | None,
        selected: Sequence[str] | None,
        writer: str | None = None,
        turns: Sequence[Turn] | None = None,
    ) -> Iterator[tuple]:
        """The submit handler as the page runs it: a written answer streams into the chat as
        the model writes it (marked as a draft), then settles to its checked version.
        ``history`` is what the chat shows; ``turns`` the conversation the answers follow."""
        history = list(history or [])
        try:
            request = self._request(question, turns, selected)
            answerer = self._answerer(writer)
            pieces = (
                answerer.stream(*request) if isinstance(answerer, Streaming) else [answerer.answer(*request)]
            )
            asked = [*history, {"role": "user", "content": html.escape(request[0])}]
            written = ""
            for piece in pieces:
                if isinstance(piece, Answer):
                    yield self._settled(asked, [*request[1], Turn(request[0], piece)])
                    return
                written += piece
                draft = {"role": "assistant", "content": draft_html(written, self.messages)}
                yield gr.skip(), [*asked, draft], gr.skip(), gr.skip(), gr.skip()
        except EmptyStoreError:
            history.append({"role": "assistant", "content": notice_html(self.text("empty_store"))})
            yield gr.skip(), history, gr.skip(), gr.skip(), gr.skip()
        except AssistantError as e:
            history.append({"role": "assistant", "content": notice_html(str(e))})
            yield gr.skip(), history, gr.skip(), gr.skip(), gr.skip()

    def _settled(self, asked: ChatHistory, turns: list[Turn]) -> tuple:
        """The outputs once the answer is final: the reply, its first cited article, the turns."""
        answer = turns[-1].answer
        reply = reply_html(answer, self.messages, turn=len(turns) - 1)
        history = [*asked, {"role": "assistant", "content": reply}]
        return "", history, *self._shown(turns, len(turns) - 1), turns

    def _shown(self, turns: Sequence[Turn], turn: int, n: int | None = None) -> tuple:
        """(cited-article switch, article view) for the answer of ``turns[turn]``: the article of
        its citation ``n`` scrolled to it, else its first cited article."""
        answer = turns[turn].answer
        cited = {c.article_id: c.title for c in answer.citations}  # in marker order
        chosen = answer.citations[n - 1].article_id if n else next(iter(cited), None)
        switch = gr.update(choices=[(t, i) for i, t in cited.items()], value=chosen, visible=len(cited) > 1)
        return switch, self.article_view(chosen, turns[: turn + 1], focus=n)

    def open_citation(self, turns: Sequence[Turn] | None, event: gr.EventData) -> tuple:
        """A click on citation [n] of reply ``turn`` in the chat: (cited-article switch, article
        view) at that sentence. A stale click (the chat was cleared since) changes nothing."""
        data = getattr(event, "_data", None) or {}
        turn, n = data.get("turn"), data.get("n")
        turns = list(turns or ())
        valid = isinstance(turn, int) and isinstance(n, int) and 0 <= turn < len(turns)
        if not valid or not 1 <= n <= len(turns[turn].answer.citations):
            return gr.skip(), gr.skip()
        return self._shown(turns, turn, n)

    def article_view(
        self, article_id: str | None, turns: Sequence[Turn] | None, focus: int | None = None
    ) -> str:
        """The article view for one article the last answer cites, its cited sentences
        highlighted (a citation of the page's metadata marks no sentence), scrolled to citation
        ``focus`` when given."""
        answer = turns[-1].answer if turns else None
        if article_id is None or answer is None:
            return f"<p>{html.escape(self.text('no_citations'))}</p>"
        info, text = self.store.article(article_id), self.store.article_text(article_id)
        if info is None or text is None:
            return notice_html(self.text("article_gone"))
        marks = [(n, c) for n, c in answer.numbered() if c.article_id == article_id and not c.field]
        return article_html(info, text, marks, self.messages, answer.short, focus)

    def export(self, turns: Sequence[Turn] | None) -> Any:
        """The download of the conversation as Markdown (a file of its own for each version);
        hidden while there is no conversation."""
        if not turns:
            return gr.DownloadButton(value=None, visible=False)
        folder = Path(tempfile.mkdtemp(prefix="conversation-"))
        path = folder / "conversation.md"
        path.write_text(transcript(turns, self.text("title")), encoding="utf-8")
        return gr.DownloadButton(value=str(path), visible=True)

    def clear(self) -> tuple:
        """Clearing the chat: (cited-article switch, article view, no turns)."""
        placeholder = f"<p>{html.escape(self.text('article_placeholder'))}</p>"
        return gr.update(choices=[], value=None, visible=False), placeholder, []

    # -- articles panel ----------------------------------------------------------------------

    def panel(self, selected: Sequence[str] | None = None, added: Sequence[str] = ()) -> tuple:
        """(article table, "ask about" choice, article to remove, example questions) for the
        store as it is now.

        ``selected`` None chooses every article; else the choice keeps the still existing
        ones of ``selected`` plus ``added``.
        """
        articles = self.store.articles()
        choices = [(a.title, a.article_id) for a in articles]
        ids = [a.article_id for a in articles]
        keep = set(ids) if selected is None else {*selected, *added}
        return (
            articles_html(articles, self.messages),
            gr.update(choices=choices, value=[i for i in ids if i in keep]),
            gr.update(choices=choices, value=None),
            gr.Dataset(samples=[[q] for q in self.messages.examples(articles)]),
        )

    def add_file(self, path: str, selected: Sequence[str], follow: Follow | None = None) -> tuple:
        """Upload handler: (upload box, status, *panel)."""
        name = safe_file_name(Path(path).name)
        outcome = self.library.add_file(Path(path), f"upload:{name}", follow=follow)
        if outcome.status == "failed":
            return None, notice_html(f"{name}: {outcome.detail}"), *self.panel(selected)
        return None, *self._added(outcome, selected)

    def add_text(self, title: str, text: str, selected: Sequence[str], follow: Follow | None = None) -> tuple:
        """Paste handler: (title box, text box, status, *panel); on error the boxes keep their text."""
        outcome = self.library.add_text(title, text, follow=follow)
        if outcome.status == "failed":
            return gr.skip(), gr.skip(), notice_html(outcome.detail), *self.panel(selected)
        return "", "", *self._added(outcome, selected)

    def add_link(self, url: str, selected: Sequence[str], follow: Follow | None = None) -> tuple:
        """Link handler: (link box, status, *panel); a page, a PDF, or a feed's newest articles.
        On error the box keeps the link."""
        url = (url or "").strip()
        if not url:
            return (
                gr.skip(),
                notice_html("paste the address of a web page, a PDF or a feed"),
                *self.panel(selected),
            )
        report = self.library.add_sources([url], self.links, follow=follow)
        good = [o for o in report.outcomes if o.status != "failed"]
        if len(report.outcomes) == 1 and good:
            return "", *self._added(good[0], selected)
        failed = "; ".join(f"{o.source}: {o.detail}" for o in report.failures)
        if not good:
            return gr.skip(), notice_html(failed), *self.panel(selected)
        added = [o.article_id for o in good if o.status in ("added", "updated")]
        message = f"From the feed: {report.summary()}." + (f" Failed: {failed}" if failed else "")
        return "", status_html(message), *self.panel(selected, added)

    def _added(self, outcome: Outcome, selected: Sequence[str]) -> tuple:
        """(status, *panel) after an article was added, updated, or found already here."""
        count = plural(outcome.sentences, "sentence")
        message = {
            "added": f"Added “{outcome.title}” ({count}).",
            "updated": f"Updated “{outcome.title}” ({count}).",
            "unchanged": f"“{outcome.title}” is already here, unchanged.",
            "skipped": f"Not added: “{outcome.title}” has the {outcome.detail}.",
        }[outcome.status]
        added = [outcome.article_id] if outcome.status in ("added", "updated") else []
        log.info("%s %s from the page", outcome.status, outcome.source)
        return status_html(message), *self.panel(selected, added)

    @staticmethod
    def followed(handler: Callable[..., tuple], status: int, outputs: int) -> Callable[..., Iterator[tuple]]:
        """``handler`` (an add handler with ``outputs`` outputs) as the page runs it: in a thread,
        how far it has got shown in its output ``status`` as it goes (articles read, sentences
        stored), then its own outputs."""

        def run(*args: Any) -> Iterator[tuple]:
            told: queue.SimpleQueue[IngestProgress | tuple | BaseException] = queue.SimpleQueue()

            def work() -> None:
                try:
                    told.put(handler(*args, follow=told.put))
                except BaseException as e:  # raised in the page's request, where Gradio shows it
                    told.put(e)

            threading.Thread(target=work, name="add-article", daemon=True).start()
            while not isinstance(item := told.get(), tuple):
                if isinstance(item, BaseException):
                    raise item
                yield tuple(progress_html(item) if k == status else gr.skip() for k in range(outputs))
            yield item

        return run

    def remove(self, article_id: str | None, selected: Sequence[str]) -> tuple:
        """Remove handler: (status, *panel)."""
        if not article_id:
            return notice_html("choose the article to remove"), *self.panel(selected)
        info = self.store.article(article_id)
        if info is None:
            return notice_html("that article is no longer in the store"), *self.panel(selected)
        self.store.remove_article(article_id)
        self.store.touch()
        log.info("removed %s from the page", article_id)
        return status_html(f"Removed “{info.title}”."), *self.panel(selected)


def build_app(page: ChatPage) -> gr.Blocks:
    """The chat page over ``page``'s handlers (served by :mod:`assistant.interfaces.server`)."""
    text = page.text
    suffixes = list(page.library.suffixes)
    private = {"api_visibility": "private"}
    with gr.Blocks(title=text("title"), analytics_enabled=False, delete_cache=(3600, 3600)) as app:
        gr.Markdown(f"## {text('title')}\n{text('description')}")
        turns = gr.State(
            []
        )  # the conversation: each question with its answer (the last one's citations are shown)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Chat", elem_id="chat", height=560, render_markdown=False, sanitize_html=True,
                    feedback_options=None, buttons=["copy"],
                )  # fmt: skip
                question = gr.Textbox(
                    show_label=False, placeholder=text("placeholder"), elem_id="question",
                    submit_btn=True, autofocus=True, lines=1, max_lines=4,
                )  # fmt: skip
                writer = gr.Radio(
                    [(text("quoted"), QUOTED), *((text("written").format(spec=w), w) for w in page.writers)],
                    value=QUOTED, label=text("answers_label"), elem_id="writer", visible=bool(page.writers),
                )  # fmt: skip
                download = gr.DownloadButton(
                    text("download"), visible=False, elem_id="download", size="sm", variant="secondary"
                )
                examples = gr.Dataset(
                    components=[question],
                    samples=[],
                    label="Examples",
                    elem_id="examples",
                    samples_per_page=6,
                )  # filled from the store by each panel update
            with gr.Column(scale=2):
                switch = gr.Radio(label="Cited articles", elem_id="cited-articles", visible=False)
                view = gr.HTML(
                    f"<p>{html.escape(text('article_placeholder'))}</p>",
                    elem_id="article-view", js_on_load=ARTICLE_VIEW_JS,
                )  # fmt: skip
        with gr.Accordion("Articles", open=True, elem_id="articles-panel"), gr.Row(equal_height=False):
            with gr.Column(scale=3):
                table = gr.HTML(elem_id="article-list")
                selected = gr.CheckboxGroup(label="Ask about", elem_id="ask-about")
                with gr.Row(visible=page.writable):
                    doomed = gr.Dropdown(label="Remove an article", elem_id="remove-choice", scale=3)
                    remove = gr.Button("Remove", variant="stop", elem_id="remove", scale=1)
            with gr.Column(scale=2, visible=page.writable):
                with gr.Tab("Upload a file"):
                    upload = gr.File(
                        label=" ".join(suffixes), file_types=suffixes, type="filepath",
                        elem_id="upload",
                    )  # fmt: skip
                with gr.Tab("Paste text"):
                    title = gr.Textbox(label="Title", elem_id="paste-title")
                    body = gr.Textbox(label="Text", lines=6, elem_id="paste-text")
                    paste = gr.Button("Add article", elem_id="paste-add")
                with gr.Tab("Add from a link"):
                    link = gr.Textbox(
                        label="Web page, PDF or feed address", placeholder="https://...", elem_id="link-url"
                    )
                    fetch = gr.Button("Add from the link", elem_id="link-add")
                status = gr.HTML(elem_id="panel-status")
        panel = [table, selected, doomed, examples]

        question.submit(
            page.respond_as_written,
            [question, chatbot, selected, writer, turns],
            [question, chatbot, switch, view, turns],
            **private,
        ).then(page.export, turns, download, **private)
        switch.input(page.article_view, [switch, turns], view, **private)
        view.click(page.open_citation, [turns], [switch, view], **private)
        examples.click(lambda row: row[0], examples, question, **private)
        chatbot.clear(page.clear, None, [switch, view, turns], **private).then(
            page.export, turns, download, **private
        )
        if page.writable:
            add_file = page.followed(page.add_file, 1, 2 + len(panel))
            add_text = page.followed(page.add_text, 2, 3 + len(panel))
            add_link = page.followed(page.add_link, 1, 2 + len(panel))
            upload.upload(add_file, [upload, selected], [upload, status, *panel], **private)
            paste.click(add_text, [title, body, selected], [title, body, status, *panel], **private)
            fetch.click(add_link, [link, selected], [link, status, *panel], **private)
            link.submit(add_link, [link, selected], [link, status, *panel], **private)
            remove.click(page.remove, [doomed, selected], [status, *panel], **private)
        app.load(page.panel, None, panel, **private)

        def chat(message: str, history: list[str] | None = None) -> str:
            """Answer ``message`` (earlier user turns in ``history``): the reply as text."""
            return chat_reply(page.answerer, page.messages, message, history)

        gr.api(chat, api_name="chat")
    return app


def is_loopback(host: str) -> bool:
    """True for a host name or address of this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
