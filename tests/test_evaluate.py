"""The scorer: matching rules, counts and the command line."""
import json
from pathlib import Path

import pytest

from pipeline.__main__ import main
from pipeline.evaluate import evaluate
from pipeline.normalize import org_similar
from pipeline.run import extract_corpus

PAGE = """<html><head><link rel="canonical" href="https://example.org/news/harbour/"></head><body><article>
<h1>Harbour Pilots Share Their Training</h1><p class="date">12 May 2022</p>
<p>Captain training for pilots began in 2015. Ms. Ingrid Solberg, Director of the Harbour Pilot Academy, opened the
session. The Vision 2030 plan sets the goals. Mr. Pavel Horak from Thailand said the course lasted six months.</p>
</article></body></html>"""


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    (root / "raw").mkdir()
    (root / "raw" / "harbour.html").write_text(PAGE)
    extract_corpus(root / "raw", root / "out", progress=False)
    return root


def _gold(root: Path, **changes) -> Path:
    gold = {
        "url": "https://example.org/news/harbour/", "title": "Harbour Pilots Share Their Training", "published": "2022-05-12",
        "truncated": False, "batches": [], "not_dates": ["Vision 2030", "six months"],
        "people": [
            {"name": "Ingrid Solberg", "honorifics": ["Ms."], "countries": [],
             "roles": [{"title": "Director", "org": "Harbour Pilot Academy", "status": "current", "start": None, "end": None}],
             "programmes": []},
            {"name": "Pavel Horak", "honorifics": ["Mr."], "countries": ["THA"], "roles": [], "programmes": []},
        ],
        "dates": [{"text": "12 May 2022", "start": "2022-05-12", "end": "2022-05-12"}, {"text": "2015", "start": "2015", "end": "2015"}],
    }
    gold.update(changes)
    folder = root / f"gold-{len(list(root.glob('gold-*')))}"
    folder.mkdir()
    (folder / "harbour.json").write_text(json.dumps(gold))
    return folder


def test_perfect_match_scores_one(extracted):
    report = evaluate(_gold(extracted), extracted / "out")
    for field in ("articles", "people", "honorifics", "person_country", "role_title", "role_org", "dates"):
        assert report["f1"][field]["f1"] == 1.0, (field, report["errors"][field])
    assert report["accuracy"]["published"]["accuracy"] == 1.0
    assert report["not_dates_extracted"] == []


def test_missing_person_costs_recall_not_precision(extracted):
    people = _gold(extracted)
    gold = json.loads((people / "harbour.json").read_text())
    gold["people"].append({"name": "Lena Marsh", "honorifics": [], "countries": [], "roles": [], "programmes": []})
    (people / "harbour.json").write_text(json.dumps(gold))
    scores = evaluate(people, extracted / "out")["f1"]["people"]
    assert (scores["tp"], scores["fp"], scores["fn"]) == (2, 0, 1)
    assert scores["precision"] == 1.0 and scores["recall"] == pytest.approx(2 / 3, abs=1e-3)


def test_name_match_ignores_order_case_and_accents(extracted):
    gold = _gold(extracted, people=[{"name": "SOLBERG Íngrid", "honorifics": [], "countries": [], "roles": [], "programmes": []}])
    assert evaluate(gold, extracted / "out")["f1"]["people"]["tp"] == 1


def test_wrong_status_lowers_status_accuracy(extracted):
    gold = _gold(extracted)
    data = json.loads((gold / "harbour.json").read_text())
    data["people"][0]["roles"][0]["status"] = "former"
    (gold / "harbour.json").write_text(json.dumps(data))
    assert evaluate(gold, extracted / "out")["accuracy"]["role_status"]["accuracy"] == 0.0


def test_organisations_match_on_word_overlap():
    assert org_similar("Consulate General of Viet Nam in Osaka", "Consulate General of Viet Nam in Osaka, Japan")
    assert org_similar("the Harbour Pilot Academy", "Harbour Pilot Academy")
    assert not org_similar("Ministry of Health", "Ministry of Foreign Affairs of Viet Nam")


def test_not_dates_are_reported_when_extracted(extracted):
    gold = _gold(extracted, not_dates=["began in 2015"])
    assert evaluate(gold, extracted / "out")["not_dates_extracted"] == ["harbour: '2015' inside 'began in 2015'"]


def test_cli_prints_table_and_writes_json(extracted, capsys):
    out = extracted / "scores.json"
    assert main(["eval", "--gold", str(_gold(extracted)), "--extracted", str(extracted / "out"), "--json", str(out)]) == 0
    assert "people" in capsys.readouterr().out
    assert json.loads(out.read_text())["f1"]["people"]["f1"] == 1.0


def test_cli_without_tables_is_a_clear_error(extracted, tmp_path, capsys):
    assert main(["eval", "--gold", str(_gold(extracted)), "--extracted", str(tmp_path)]) == 2
    assert "run `python -m pipeline extract` first" in capsys.readouterr().err
