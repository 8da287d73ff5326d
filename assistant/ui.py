"""The browser chat, built with Gradio: :func:`build_app` makes it, :func:`serve` runs it.

Replies show the answer with its [n] markers and, beneath, the numbered cited sentences
with their article titles. The chat function is the API endpoint ``/chat`` for
``gradio_client`` (question in, reply text out). Replies are shown as plain text, never
rendered as Markdown or HTML, so article text cannot inject markup.
"""

from __future__ import annotations

import ipaddress
import logging
import os

from assistant.answerer import ExtractiveAnswerer, get_answerer, messages
from assistant.errors import AssistantError, ConfigError
from assistant.settings import Settings

log = logging.getLogger(__name__)


def chat_reply(answerer: ExtractiveAnswerer, message: str, history: list | None) -> str:
    """The chat's reply to ``message``: the answer with its citations, or the error."""
    try:
        return answerer.answer(message, history).as_text(messages()["cited_heading"])
    except AssistantError as e:
        return f"⚠ {e}"


def build_app(settings: Settings):
    """The chat page for the store in ``settings`` (not yet launched)."""
    import gradio as gr

    answerer = get_answerer(settings)

    def chat(message: str, history: list) -> str:
        return chat_reply(answerer, message, history)

    return gr.ChatInterface(
        chat,
        chatbot=gr.Chatbot(render_markdown=False, sanitize_html=True, height=520),
        title="Article assistant",
        description="Ask about the ingested articles: every answer is made of their own sentences, cited.",
        examples=messages()["examples"],
        api_name="chat",
        analytics_enabled=False,
        flagging_mode="never",
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    settings: Settings, host: str | None = None, port: int | None = None, insecure: bool = False
) -> None:
    """Serve the chat; binds 127.0.0.1:7860 unless told otherwise (flags or Gradio's env vars)."""
    host = host or os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1"
    port = port or int(os.environ.get("GRADIO_SERVER_PORT") or 7860)
    auth = settings.auth_pairs()
    if not _is_loopback(host) and not auth and not insecure:
        raise ConfigError(
            f"refusing to serve on {host} without authentication: set ASSISTANT_AUTH=user:password "
            "(or ASSISTANT_AUTH_FILE), or pass --insecure if the network is trusted"
        )
    app = build_app(settings)
    log.info("serving on http://%s:%d", host, port)
    app.launch(server_name=host, server_port=port, share=False, auth=auth or None, show_error=False)
