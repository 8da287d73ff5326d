"""The terminal chat, ``article-assistant chat``: a conversation read line by line from stdin.

Each line is a question or a command (``/articles``, ``/use``, ``/llm``, ``/clear``, ``/help``,
``/quit``). Each answer becomes a :class:`~assistant.core.records.Turn`, and the next question
is answered with the earlier turns, as the browser chat does, so that a follow-up ("And when was
he born?", "Tell me more") gets the same answer here as there. A reply is printed as ``ask``
prints one (:meth:`Answer.as_text`): the short answer, the answer with its [n] markers, one
source line per citation, then any note.

When stdin is a terminal, questions are read with :func:`input` after a ``> `` prompt (with
``readline``'s line editing and history where the platform has it); from a pipe, lines are read
as they come. When stdout is a terminal and ``NO_COLOR`` is not set, the short answer is bold
and hints dim; anywhere else the chat prints plain text. Everything the chat says, its error
messages included, goes to stdout in the order of the conversation, so that a piped transcript
reads as the conversation went; each reply ends with a blank line and is flushed at once, for a
program that waits for it.

An empty store ends the chat at its start, with the message ``ask`` gives and exit 1: this
chat cannot add an article, so a user could do nothing but quit, and a script learns from the
exit code that none of its questions could be answered. A store emptied during the
conversation gets that message as the reply to a question, and the chat goes on.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TextIO

from assistant.answering.conversation import clean_question
from assistant.core.errors import AssistantError, ConfigError, EmptyStoreError
from assistant.core.records import ArticleInfo, Turn
from assistant.core.text import plural

if TYPE_CHECKING:
    from assistant.answering.answerer import Answerer
    from assistant.app import Assistant

PROMPT = "> "
COMMANDS = {  # command -> (how it is typed, what it does), for /help
    "/articles": ("/articles", "list the articles: number, title, site and date, where from, id"),
    "/use": ("/use ID|NUMBER ...", "ask about these articles only (/use all: about every one)"),
    "/llm": ("/llm SPEC", "a chat model writes the answers: local, ollama:llama3.2... (/llm off: quotes)"),
    "/clear": ("/clear", "start a new conversation"),
    "/help": ("/help", "show this list"),
    "/quit": ("/quit", "leave (Ctrl-D too)"),
}
HELP = "\n".join(f"{typed:<20} {does}" for typed, does in COMMANDS.values())
UNKNOWN = "unknown command {name}: the commands are " + ", ".join(COMMANDS)


def _usage(command: str) -> str:
    typed, does = COMMANDS[command]
    return f"usage: {typed}: {does}"


def _ansi(code: str) -> Callable[[str], str]:
    return lambda text: f"\033[{code}m{text}\033[0m"


class TerminalChat:
    """One conversation: its turns, the articles it asks about and who writes its answers.

    Cost: each question is answered with every earlier turn, each carrying its answer, so none
    is worked out again; the turns are kept until ``/clear``.
    """

    def __init__(
        self, root: Assistant, out: TextIO, article_ids: Sequence[str] | None = None, color: bool = False
    ) -> None:
        """A conversation over ``root``'s store that prints to ``out`` (styled when ``color``);
        ``article_ids`` (ids or numbers of the article list) chooses the articles to ask about.
        Raises :class:`EmptyStoreError` when nothing is ingested, :class:`ConfigError` for an
        article that is not in the store or a chat model (``root.settings.llm``) that cannot be made."""
        self.root = root
        self.out = out
        self.bold = _ansi("1") if color else str
        self.dim = _ansi("2") if color else str
        self.turns: list[Turn] = []
        self.listed = root.store.articles()  # what the numbers of /use refer to: the last list shown
        if not self.listed:
            raise EmptyStoreError(root.store.label)
        self.chosen = self._choose(article_ids) if article_ids else None  # None: every article
        self.spec = root.settings.llm or None  # the chat model that writes the answers, if any
        self.answerer: Answerer = root.answerer

    # -- the conversation -------------------------------------------------------------------

    def handle(self, line: str) -> bool:
        """Answer a question or run a command; False once the chat is to end."""
        line = line.strip()
        if not line:
            return True
        if not line.startswith("/"):
            self.ask(line)
            return True
        name, _, rest = line.partition(" ")
        name, words = name.lower(), rest.split()
        if name == "/quit":
            return False
        commands = {
            "/articles": lambda: self.articles(),
            "/use": lambda: self.use(words),
            "/llm": lambda: self.llm(words),
            "/clear": lambda: self.clear(),
            "/help": lambda: self.say(HELP),
        }
        command = commands.get(name, lambda: self.say(UNKNOWN.format(name=name)))
        try:
            command()
        except AssistantError as e:
            self.error(e)
        return True

    def ask(self, question: str) -> None:
        """Answer ``question`` after the earlier turns and print the reply, or why there is none."""
        try:
            question = clean_question(question)
            answer = self.answerer.answer(question, self.turns, self.chosen)
        except AssistantError as e:
            self.error(e)
            return
        self.turns.append(Turn(question, answer))
        text = answer.as_text(self.root.messages.sources_heading, bold=self.bold)
        if answer.abstained:
            every = ", or /use all to ask about every article" if self.chosen else ""
            text += "\n" + self.dim(f"Try asking with other words{every}.")
        self.say(text)

    # -- commands ---------------------------------------------------------------------------

    def articles(self) -> None:
        """/articles: the articles, numbered for /use, the chosen ones marked when some are."""
        self.listed = self.root.store.articles()
        if not self.listed:
            raise EmptyStoreError(self.root.store.label)
        lines = [self._article_line(n, a) for n, a in enumerate(self.listed, 1)]
        self.say("\n".join([*lines, self._choice()]))

    def _article_line(self, n: int, article: ArticleInfo) -> str:
        mark = "*" if self.chosen and article.article_id in self.chosen else " "
        byline = f" ({article.byline})" if article.byline else ""
        origin = f" · {article.origin}" if article.origin else ""  # never the path on this machine
        return f"{mark}{n:>3}. {article.title}{byline}{origin}" + self.dim(f"  id: {article.article_id}")

    def use(self, words: Sequence[str]) -> None:
        """/use ID|NUMBER ...: ask about these articles only; /use all: about every one."""
        if not words:
            self.say(f"{_usage('/use')}\n{self._choice()}")
            return
        self.chosen = None if [w.lower() for w in words] == ["all"] else self._choose(words)
        self.say(self._choice())

    def _choose(self, words: Sequence[str]) -> list[str]:
        """The article ids ``words`` name: ids, or numbers of the last list shown; raises
        :class:`ConfigError` naming one that is neither."""
        known = {a.article_id for a in self.root.store.articles()}
        chosen = []
        for word in words:
            if word.isdigit() and 1 <= int(word) <= len(self.listed):
                word = self.listed[int(word) - 1].article_id
            if word not in known:
                raise ConfigError(f"no article {word!r} in the store: /articles lists their numbers and ids")
            chosen.append(word)
        return list(dict.fromkeys(chosen))

    def _choice(self) -> str:
        """Which articles the questions are about."""
        if self.chosen is None:
            return "Asking about every article."
        titles = {a.article_id: a.title for a in self.root.store.articles()}
        named = "; ".join(titles.get(i, i) for i in self.chosen)
        return f"Asking about {named} (/use all: every article)."

    def llm(self, words: Sequence[str]) -> None:
        """/llm SPEC: a chat model writes the answers; /llm off: the articles' sentences are
        quoted. Raises :class:`ConfigError`, as ``ask --llm`` does, when the model cannot be made."""
        if len(words) != 1:
            now = f"written by {self.spec}" if self.spec else "quoted from the articles"
            self.say(f"{_usage('/llm')}\nAnswers are {now}.")
            return
        if words[0].lower() == "off":
            self.answerer, self.spec = self.root.extractive, None
            self.say("Answers are quoted from the articles.")
            return
        self.answerer, self.spec = self.root.answerer_for(words[0]), words[0]
        self.say(f"Answers are written by {self.spec}, every sentence checked against the articles.")

    def clear(self) -> None:
        """/clear: a new conversation (the articles chosen and the chat model stay)."""
        self.turns.clear()
        self.say("New conversation.")

    # -- printing ---------------------------------------------------------------------------

    def say(self, text: str) -> None:
        """Print a reply, a blank line after it, at once."""
        self.out.write(f"{text}\n\n")
        self.out.flush()

    def error(self, error: AssistantError) -> None:
        """Print an error's message as ``ask`` does, as the conversation's reply."""
        self.say(f"error: {error}")


def chat(root: Assistant, article_ids: Sequence[str] | None = None) -> int:
    """Hold the conversation on stdin and stdout until ``/quit``, the end of the input (Ctrl-D)
    or Ctrl-C at the prompt: exit 0; Ctrl-C while an answer is worked out ends it with 130.
    Raises what :class:`TerminalChat` raises at its start."""
    interactive = sys.stdin.isatty()
    color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")  # a stray byte in piped input is not worth a traceback
    conversation = TerminalChat(root, sys.stdout, article_ids, color=color)
    if interactive:
        with contextlib.suppress(ImportError):  # not on every platform
            import readline  # noqa: F401  (line editing and history for input())
        count = len(conversation.listed)
        conversation.say(f"{plural(count, 'article')}: ask a question, /help for the commands.")
    try:
        while (line := _read(interactive)) is not None and conversation.handle(line):
            pass
    except KeyboardInterrupt:
        print()
        return 130
    except BrokenPipeError:  # the reader of stdout has gone (`| head`): nothing left to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _read(interactive: bool) -> str | None:
    """The next line of stdin, or None at its end, or at Ctrl-C on the prompt."""
    if not interactive:
        return sys.stdin.readline() or None
    try:
        return input(PROMPT)
    except (EOFError, KeyboardInterrupt):
        print()  # the shell's prompt on a line of its own
        return None
