"""PDF articles: real PDFs made with fpdf2, read back into a title and whole paragraphs."""

import io
import random

import pdfplumber
import pytest
from fpdf import FPDF
from PIL import Image

from assistant.core.errors import IngestError
from assistant.core.records import Metadata, RawArticle
from ingest.pdf import read_pdf
from ingest.split import build_article

HEADER = "The Daily Courier — 12 March 2024"
HEADLINE = "Council backs the northern tram extension after a decade of debate over its cost"
BROKEN = (
    "A spokesman for the regional govern-\nment confirmed on Wednesday that it will pay a third of the bill."
)
MENDED = BROKEN.replace("-\n", "")
PARAGRAPHS = [
    MENDED
    if n == 7
    else " ".join(
        f"Sentence {s} of paragraph {n} tells how the council weighed the price of four new stations "
        "against the time saved by riders from the outer suburbs."
        for s in range(1, 6)
    )
    for n in range(1, 17)
]


class Newspaper(FPDF):
    """A newspaper's pages: its name and date on top of every page, the page number at the foot."""

    def __init__(self, footer: str = "{page}") -> None:
        super().__init__()
        self.core_fonts_encoding = "cp1252"  # the dash and curly quotes in Helvetica
        self.footer_text = footer

    def header(self) -> None:
        self.set_font("Helvetica", "I", 9)
        self.cell(0, 8, HEADER, align="C")
        self.ln(14)

    def footer(self) -> None:
        self.set_y(-15)
        self.set_font("Helvetica", size=9)
        self.cell(0, 8, self.footer_text.format(page=self.page_no()), align="C")


def _article(paragraphs: list[str], footer: str = "{page}", **info: str) -> bytes:
    """A PDF article: a headline in 22 pt, then paragraphs of 11 pt text with a blank space between."""
    pdf = Newspaper(footer)
    if "title" in info:
        pdf.set_title(info["title"])
    if "author" in info:
        pdf.set_author(info["author"])
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 22)
    pdf.multi_cell(0, 10, HEADLINE)
    pdf.ln(4)
    pdf.set_font("Helvetica", size=11)
    for paragraph in paragraphs:
        pdf.multi_cell(0, 6, paragraph)
        pdf.ln(4)
    return bytes(pdf.output())


def _courier() -> bytes:
    """Three pages of sixteen paragraphs, the 7th with "govern-" broken at a line end.

    The first page ends with a paragraph; the second ends in the middle of a sentence.
    """
    return _article([BROKEN if n == 7 else p for n, p in enumerate(PARAGRAPHS, 1)], author="Jane Doe")


@pytest.fixture(scope="module")
def courier() -> RawArticle:
    data = _courier()
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        assert len(pdf.pages) == 3, "the article fills three pages"
    return read_pdf(data, "/articles/courier.pdf")


def test_paragraphs_come_out_whole_and_in_order(courier: RawArticle) -> None:
    assert courier.paragraphs == tuple(PARAGRAPHS)


def test_running_header_and_page_numbers_are_dropped(courier: RawArticle) -> None:
    text = "\n".join(courier.paragraphs)
    assert "Daily Courier" not in text
    assert "12 March 2024" not in text
    assert not any(p in {"1", "2", "3"} for p in courier.paragraphs)


def test_title_is_the_headline_in_the_largest_font(courier: RawArticle) -> None:
    assert courier.title == HEADLINE
    assert HEADLINE not in courier.paragraphs
    assert courier.meta == Metadata(author="Jane Doe")  # no date: a PDF's creation date is not one


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Tram extension approved", "Tram extension approved"),
        (f"{HEADLINE} | The Daily Courier", HEADLINE),
        ("Microsoft Word - tram story v2.docx", HEADLINE),
        ("Untitled", HEADLINE),
        ("   ", HEADLINE),
    ],
)
def test_a_title_in_the_metadata_counts_when_it_is_a_real_title(title: str, expected: str) -> None:
    raw = read_pdf(_article(PARAGRAPHS[:2], title=title), "a.pdf")
    assert raw.title == expected
    assert raw.paragraphs[-2:] == tuple(PARAGRAPHS[:2])
    assert (HEADLINE in raw.paragraphs) == (expected != HEADLINE)


@pytest.mark.parametrize("footer", ["{page}", "Page {page} of {{nb}}", "- {page} -"])
def test_a_page_number_is_dropped_even_on_a_single_page(footer: str) -> None:
    raw = read_pdf(_article(PARAGRAPHS[:2], footer), "one-page.pdf")
    assert raw.paragraphs == (HEADER, *PARAGRAPHS[:2])  # one page: nothing shows the header repeats


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ("the regional govern-\nment said", "the regional government said"),
        ("a well-known face; the well-\nknown face", "a well-known face; the well-known face"),
        ("Jean-\nPierre Dupont", "Jean-Pierre Dupont"),
        ("the COVID-\n19 rules", "the COVID-19 rules"),
        ("a state-of-the-\nart depot", "a state-of-the-art depot"),
        ("prices - \nas ever", "prices - as ever"),
    ],
)
def test_a_word_broken_at_a_line_end_is_mended(lines: str, expected: str) -> None:
    raw = read_pdf(_article([f"{PARAGRAPHS[0]} Then {lines}"]), "a.pdf")
    assert raw.paragraphs == (HEADER, f"{PARAGRAPHS[0]} Then {expected}")


def test_two_columns_are_read_one_after_the_other() -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 22)
    pdf.multi_cell(0, 10, HEADLINE)
    pdf.set_font("Times", size=10)
    with pdf.text_columns(ncols=2, gutter=8) as columns:  # the first column ends inside a sentence
        for paragraph in PARAGRAPHS[:6]:
            columns.write(paragraph + "\n\n")
    assert read_pdf(bytes(pdf.output()), "columns.pdf").paragraphs == tuple(PARAGRAPHS[:6])


def test_indented_paragraphs_without_space_between_are_told_apart() -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Times", size=11)
    with pdf.text_columns(text_align="J") as column:
        for paragraph in PARAGRAPHS[:4]:
            with column.paragraph(first_line_indent=6) as lines:
                lines.write(paragraph)
    raw = read_pdf(bytes(pdf.output()), "indented.pdf")
    assert raw.paragraphs == tuple(PARAGRAPHS[:4])
    assert PARAGRAPHS[0].startswith(raw.title), "no larger font: the first line is the title"
    assert len(raw.title) < len(PARAGRAPHS[0]) / 2


def test_a_pdf_without_text_needs_ocr() -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.image(Image.new("L", (120, 160), 200), x=10, y=10, w=120)  # a scanned page: only a picture
    pdf.rect(10, 180, 100, 40, style="F")
    with pytest.raises(IngestError, match=r"^scan\.pdf: no text layer: scanned pages need OCR$"):
        read_pdf(bytes(pdf.output()), "scan.pdf")


@pytest.mark.parametrize("method", ["RC4", "AES_256"])
def test_a_password_protected_pdf_is_refused_with_the_reason(method: str) -> None:
    pdf = Newspaper()
    pdf.set_encryption(owner_password="owner", user_password="secret", encryption_method=method)
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, PARAGRAPHS[0])
    with pytest.raises(IngestError, match=r"^locked\.pdf: the PDF is encrypted with a password"):
        read_pdf(bytes(pdf.output()), "locked.pdf")


def test_a_pdf_encrypted_without_a_user_password_is_read() -> None:
    pdf = Newspaper()
    pdf.set_encryption(owner_password="owner")  # opens for everyone; only editing is restricted
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, PARAGRAPHS[0])
    assert PARAGRAPHS[0] in read_pdf(bytes(pdf.output()), "open.pdf").paragraphs


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (random.Random(7).randbytes(4096), "no %PDF- header (is it really a PDF?)"),
        (b"<html><body>Not a PDF</body></html>", "no %PDF- header (is it really a PDF?)"),
        (_courier()[:3000], ""),  # cut off in the middle: pdfminer says why
    ],
    ids=["random bytes", "html", "truncated"],
)
def test_a_damaged_or_false_pdf_is_not_readable(data: bytes, reason: str) -> None:
    with pytest.raises(IngestError, match=r"^bad\.pdf: not a readable PDF: \S") as caught:
        read_pdf(data, "bad.pdf")
    assert str(caught.value).endswith(reason)


def test_words_drawn_apart_without_space_characters_keep_their_spaces() -> None:
    """pdfTeX and some layout programs place each word and draw no space between them."""
    pdf = FPDF(unit="pt")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    x = pdf.l_margin
    for word in PARAGRAPHS[0].split()[:12]:
        pdf.text(x, 100, word)
        x += pdf.get_string_width(word) + 2.5  # a tight justified space: under 0.25 em
    assert read_pdf(bytes(pdf.output()), "tex.pdf").title == " ".join(PARAGRAPHS[0].split()[:12])


def test_offsets_point_into_the_cleaned_text(courier: RawArticle) -> None:
    article = build_article(courier)
    assert article.title == HEADLINE
    assert len(article.sentences) == 15 * 5 + 1
    for s in article.sentences:
        assert article.text[s.start : s.end] == s.text
    assert any(s.text == MENDED for s in article.sentences)
