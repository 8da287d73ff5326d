"""Page boilerplate out, article text in: the rules that turn a saved news page into paragraphs.

What goes: WordPress shortcodes (``[mc4wp_form id=""]``), photo and agency credits
("(Image Source ANI)", "(Photo: ...)", a trailing "(ANI)"), promotional link lines
("ALSO READ – ...", "Read more: ..."), and photo captions that are only a credit or a
name. What stays: every paragraph of real text, a caption that is a full sentence included.
"""

from __future__ import annotations

import re
import unicodedata

# [shortcode attr="..."], [/shortcode], [name_with_underscore], and WordPress' own tags.
_SHORTCODE = re.compile(
    r"\[/?(?:[a-z][a-z0-9-]*_[a-z0-9_-]*|caption|gallery|embed|audio|video|playlist)"
    r"(?:\s[^\[\]]*)?/?\]"
    r"|\[[a-z][a-z0-9_-]*(?:\s+[a-z_-]+=(?:\"[^\"]*\"|'[^']*'|[^\s\]]+))+\s*/?\]",
    re.IGNORECASE,
)
# (Image Source ANI), (Photo: twitter@x), (File photo), (Representational image), ...
_PHOTO_CREDIT = re.compile(
    r"\s*\((?:image|photo|picture|pic|file photo|representational|credit|courtesy|source)"
    r"\b[^()]*\)",
    re.IGNORECASE,
)
# A one-word agency credit closing a paragraph after its last sentence: "... occur. (ANI)".
_AGENCY_CREDIT = re.compile(r"(?<=[.!?\"'”’])\s*\([A-Z][A-Za-z/&-]{1,24}\)\s*$")
_CREDIT_ONLY = re.compile(r"^\([^()]{1,40}\)$")  # a line that is only "(ANI)" or "(Reuters)"
_PROMO_LINE = re.compile(
    r"^\s*(?:also read|read also|read more|must read|related|recommended|click here"
    r"|subscribe|sign up|follow us|share this|advertisement|sponsored)\b\s*(?:[:–—|-]|$)",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")
_SPACES = re.compile(r"[^\S\n]+")


def normalise(text: str) -> str:
    """Unicode NFC, line ends unified, control characters (NUL included) dropped."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")
    )


def clean_paragraph(paragraph: str) -> str:
    """The paragraph without boilerplate and with single spaces; "" when nothing real is left."""
    text = _SPACES.sub(" ", paragraph).strip()
    if _PROMO_LINE.match(text) or _CREDIT_ONLY.match(text):
        return ""
    text = _SHORTCODE.sub("", text)
    without_photo = _PHOTO_CREDIT.sub("", text)
    had_photo_credit = without_photo != text
    text = _AGENCY_CREDIT.sub("", without_photo)
    text = _SPACES.sub(" ", text).strip()
    # A caption that lost its credit stays only when it is a full sentence.
    if had_photo_credit and not _SENTENCE_END.search(text):
        return ""
    if not any(ch.isalnum() for ch in text):
        return ""
    return text


def clean_paragraphs(paragraphs: list[str]) -> list[str]:
    """The non-empty cleaned paragraphs, in order."""
    cleaned = (clean_paragraph(normalise(p)) for p in paragraphs)
    return [p for p in cleaned if p]
