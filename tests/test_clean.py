"""Boilerplate removal keeps real content and drops page chrome."""

import pytest

from ingest.clean import clean_paragraph, normalise, unescape_references


@pytest.mark.parametrize(
    "line",
    [
        "(Image Source ANI)",
        "(ANI)",
        "ALSO READ – ISIS-K planner killed in US airstrikes",
        "ALSO READ –\xa0British nationals killed in Kabul bombings",
        "Read more: the full story",
        '[mc4wp_form id=""]',
        "US Secretary if State Antony Blinken (Photo: twitter@SecBlinken)",
        "Advertisement",
    ],
)
def test_boilerplate_lines_are_dropped(line: str) -> None:
    assert clean_paragraph(line) == ""


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        (
            "People queue up to board a military aircraft of Germany and leave Kabul at Kabul "
            "airport, Afghanistan. (XinhuaIANS)",
            "People queue up to board a military aircraft of Germany and leave Kabul at Kabul "
            "airport, Afghanistan.",
        ),
        (
            "he hadn’t seen evidence the Taliban let the attack occur. (ANI)",
            "he hadn’t seen evidence the Taliban let the attack occur.",
        ),
        (
            "Taliban, Haqqani Network two separate entities: US",
            "Taliban, Haqqani Network two separate entities: US",
        ),
        (
            "The splinter group of Islamic State, (Islamic State – Khorasan) ISIS-K, clashed.",
            "The splinter group of Islamic State, (Islamic State – Khorasan) ISIS-K, clashed.",
        ),
        ("Related studies found nothing new.", "Related studies found nothing new."),
        ("The author [sic] wrote it.", "The author [sic] wrote it."),
    ],
)
def test_real_content_stays(line: str, kept: str) -> None:
    assert clean_paragraph(line) == kept


def test_normalise_drops_control_characters_and_keeps_newlines() -> None:
    assert normalise("a\x00b\r\nc\u200bd") == "ab\ncd"


@pytest.mark.parametrize(
    ("text", "decoded"),
    [
        ("a &#163;1.8m indecency fine", "a £1.8m indecency fine"),
        ("AT&amp;T said &quot;no&quot;", 'AT&T said "no"'),
        ("&#xA3;5 and &#X26; and &pound;6", "£5 and & and £6"),
        ("&#150; a cp1252 dash, &#0; none", "– a cp1252 dash, \ufffd none"),  # as html.unescape reads them
        ("&amp;amp; and &amp;#163;", "&amp; and &#163;"),  # once
        ("R&D & more, Q&A;", "R&D & more, Q&A;"),  # a bare "&", an unknown name
        ("Barnes&noble, &copy 2020, &notin; &notit;", "Barnes&noble, &copy 2020, ∉ &notit;"),  # ";" needed
    ],
)
def test_character_references_are_decoded_and_nothing_else(text: str, decoded: str) -> None:
    assert unescape_references(text) == decoded
