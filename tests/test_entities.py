"""The entity tagger: spaCy's NER read without the parts it does not need, giving exactly what
the whole model gives, and loaded without torch."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from assistant.answering.entities import _MONEY_PATTERNS, MODEL, EntityTagger, _import_spacy
from tests.conftest import ROOT, child_env


def _squad_texts(count: int) -> list[str]:
    data = json.loads((ROOT.parent / "shared" / "eval" / "squad-v1.1-dev-a.json").read_text())
    paragraphs = [p for article in data["data"] for p in article["paragraphs"]]
    questions = [qa["question"] for p in paragraphs for qa in p["qas"]]
    return [p["context"] for p in paragraphs[:: len(paragraphs) // count]] + questions[
        :: len(questions) // count
    ]


@pytest.mark.slow
def test_the_tagger_finds_what_the_whole_model_finds() -> None:
    texts = _squad_texts(150)
    whole = _import_spacy().load(MODEL)
    ruler = whole.add_pipe("entity_ruler", before="ner")
    ruler.add_patterns([{"label": "MONEY", "pattern": p} for p in _MONEY_PATTERNS])
    expected = [
        tuple((e.text, e.label_, e.start_char, e.end_char) for e in doc.ents) for doc in whole.pipe(texts)
    ]
    found = [
        tuple((e.text, e.label, e.start, e.end) for e in found) for found in EntityTagger().entities(texts)
    ]
    assert found == expected
    assert sum(map(len, found)) > 500  # a real test: hundreds of entities


def test_a_parse_is_worked_out_once_for_a_text_that_comes_back() -> None:
    tagger = EntityTagger()
    first, question = tagger.parse(["The ferry left Tarvik at noon.", "When did the ferry leave?"])
    again = tagger.parse(["The ferry left Tarvik at noon."])[0]
    assert again is first and [t.dep_ for t in first][:3] == ["det", "nsubj", "ROOT"]
    assert [t.lower_ for t in question][:2] == ["when", "did"]
    assert first.ents == () and [e.text for e in tagger.entities([first.text])[0]] == ["Tarvik", "noon"]


def test_amounts_with_a_currency_code_are_money() -> None:
    (found,) = EntityTagger().entities(["Khalil Haqqani has a USD 5 million reward on his head."])
    assert ("USD 5 million", "MONEY") in {(e.text, e.label) for e in found}
    assert ("Khalil Haqqani", "PERSON") in {(e.text, e.label) for e in found}


def _child(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=child_env(), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


TAG = "(found,) = EntityTagger().entities(['Joe Biden went to Kabul.']); from thinc.compat import has_torch; "


@pytest.mark.subprocess
def test_the_tagger_loads_without_torch_unless_torch_is_in_use() -> None:
    code = "import sys; from assistant.answering.entities import EntityTagger; " + TAG
    shown = "print([e.label for e in found], 'torch' in sys.modules, has_torch)"
    assert _child(code + shown) == "['PERSON', 'GPE'] False False"
    # a process that already runs torch (the torch backend, the local model) keeps thinc's view of it
    assert _child("import torch; " + code + shown) == "['PERSON', 'GPE'] True True"
