"""Boilerplate removal keeps real content and drops page chrome."""

import pytest

from ingest.clean import clean_paragraph, normalise


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
