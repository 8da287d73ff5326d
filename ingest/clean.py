"""Page boilerplate out, article text in: the rules that turn a saved news page into paragraphs,
and the character references ("&amp;", "&#163;") a plain text file carries over from the web.

What goes: WordPress shortcodes (``[mc4wp_form id=""]``), photo and agency credits
("(Image Source ANI)", "(Photo: ...)", a trailing "(ANI)"), reporting credits ("(Reporting by
...; Editing by ...)", "... contributed reporting."), promotional link lines ("ALSO READ – ...",
"Read more: ...", "DON'T MISS", a teaser ending "[VIDEO]"), a "Click To Tweet" button, and
photo captions that are only a credit or a name. What stays: every paragraph of real text, a
caption that is a full sentence included.
"""

from __future__ import annotations

import html
import re
import unicodedata
from html.entities import html5

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
# A keyword, then a delimiter or nothing: "Read more: ...", "DON'T MISS", "Related post: ..."
_PROMO_LINE = re.compile(
    r"^\s*(?:also read|read also|read more|must read|see more|more on this|further reading|explore further"
    r"|related(?: posts?| stories| articles?| content| coverage)?|recommended(?: for you| stories)?"
    r"|don[’']?t miss|you (?:may|might) also like|most (?:read|popular)|trending(?: now)?|top stories"
    r"|editor[’']?s picks?|click here|subscribe|sign up|follow us|share this|advertisement|sponsored)"
    r"\b\s*(?:[:–—|-]|$)",
    re.IGNORECASE,
)
# A tabloid's link to another story: "Plague fears: holidaymakers die [INSIGHT]".
_TEASER_LINK = re.compile(
    r"\[(?:VIDEO|PICS?|PHOTOS?|INSIGHT|REVEAL|REACTION|ANALYSIS|WARNING|NEWS|LATEST|POLL|LIVE|UPDATE)\]\s*\|?$"
)
# Who reported, edited or can be written to: "(Reporting by A; Editing by B)", "Additional
# reporting by A", "A contributed reporting from Paris.", "Write to A at a@x.com", "Follow her on
# Twitter @a".
_STAFF_CREDIT = re.compile(
    r"^\((?:additional )?(?:reporting|writing|editing|compiled) by\b|^additional reporting by\b"
    r"|^reporting by\b.*;\s*(?:writing|editing) by\b"
    r"|^(?=.{0,200}$).*\bcontributed (?:reporting|to this (?:report|story|article))\b[^.!?]{0,80}[.!?]?$"
    r"|^write to .{2,80}\bat\s+\S+@\S+|^email (?:him|her|them) at\b"
    r"|^follow (?:him|her|them|me)\b.{0,80}(?:twitter|facebook|instagram|@)",
    re.IGNORECASE,
)
_SHARE_BUTTON = re.compile(r"\s*click to tweet\s*$", re.IGNORECASE)  # a blog's quote-sharing button
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")
_SPACES = re.compile(r"[^\S\n]+")
# A character reference ended by its ";": "&#163;", "&#xA3;", "&pound;". HTML also reads a few
# names without one ("&copy", "&not"), which in plain text would turn "Barnes&noble" into
# "Barnes¬ble"; Markdown (CommonMark) reads none without one either.
_REFERENCE = re.compile(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]{0,31});")


def normalise(text: str) -> str:
    """Unicode NFC, line ends unified, control characters (NUL included) dropped."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")
    )


def unescape_references(text: str) -> str:
    """``text`` with each HTML character reference replaced by its character, once, as
    :func:`html.unescape` reads it ("&#163;1.8m" -> "£1.8m", "AT&amp;T" -> "AT&T",
    "&amp;amp;" -> "&amp;"); a bare "&" ("R&D") and an unknown name ("&nope;") stay as they are."""
    return _REFERENCE.sub(_character, text)


def _character(reference: re.Match[str]) -> str:
    found = reference.group()
    if found[1] != "#" and found[1:] not in html5:
        return found
    return html.unescape(found)


def clean_paragraph(paragraph: str) -> str:
    """The paragraph without boilerplate and with single spaces; "" when nothing real is left."""
    text = _SPACES.sub(" ", paragraph).strip()
    if any(rule.search(text) for rule in (_PROMO_LINE, _CREDIT_ONLY, _TEASER_LINK, _STAFF_CREDIT)):
        return ""
    text = _SHARE_BUTTON.sub("", _SHORTCODE.sub("", text))
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
