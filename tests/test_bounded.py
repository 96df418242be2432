"""Bounded work: long texts are read in pieces, facts stop at a size limit with a warning, and a page that runs
past its time limit fails alone while the other pages land. Speed itself is measured by ``make bench``."""
import logging
import signal
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import pipeline.extract
import pipeline.pagework as pagework
from pipeline.nlp import build_nlp, process_text, text_chunks
from pipeline.parse import RawPage, parse_page
from pipeline.run import extract_corpus
from pipeline.synthetic import one_person_page, profiles_page

SLOW_S = 30  # how long the deliberately slow page would take without a time limit


def _articles(out: Path) -> dict[str, dict]:
    return {row["source_path"]: row for row in pq.read_table(out / "articles.parquet").to_pylist()}


def test_pieces_join_back_to_the_text_and_end_at_blank_lines():
    text = "\n\n".join(f"Paragraph {i} tells one more thing about the work." for i in range(200))
    pieces = text_chunks(text, 500)
    assert "".join(pieces) == text
    assert len(pieces) > 1 and all(len(piece) <= 500 for piece in pieces)
    assert all(piece.endswith("\n\n") for piece in pieces[:-1])


def test_one_block_longer_than_a_piece_is_cut_after_a_sentence():
    text = " ".join(f"Sentence {i} is short." for i in range(100))
    pieces = text_chunks(text, 300)
    assert "".join(pieces) == text
    assert all(piece.endswith(". ") for piece in pieces[:-1])
    assert text_chunks("x" * 1000, 300) == ["x" * 300, "x" * 300, "x" * 300, "x" * 100]


def test_a_text_read_in_pieces_keeps_tokens_and_rule_spans(tmp_path):
    nlp = build_nlp(None)
    page = tmp_path / "p.html"
    page.write_text(profiles_page(12_000, seed=3))
    text = parse_page(RawPage(page))[0].text
    whole, pieces = nlp(text), process_text(nlp, text, limit=3_000)
    assert pieces.text == text
    assert [t.text for t in pieces] == [t.text for t in whole]
    for key in ("dates", "titles", "countries", "honorifics", "batches"):
        assert [(s.start, s.end, s.label_, s.id_) for s in pieces.spans[key]] == \
            [(s.start, s.end, s.label_, s.id_) for s in whole.spans[key]], key
    assert len(pieces.ents) > 0


def test_facts_stop_at_the_size_limit_with_a_warning_and_the_text_is_kept(tmp_path, monkeypatch, caplog):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    (raw / "long.html").write_text(one_person_page(60, seed=5))
    monkeypatch.setattr(pagework, "MAX_ARTICLE_CHARS", 3_000)
    summary = extract_corpus(raw, out, progress=False)
    assert not summary.failures
    assert any("long.html" in warning and "facts are extracted from the first" in warning
               for warning in summary.warnings)
    article = _articles(out)["long.html"]
    assert len(article["text"]) > 3_000  # the whole text stays in the table
    dates = pq.read_table(out / "dates.parquet").to_pylist()
    assert dates and max(row["char_end"] for row in dates) <= 3_000


def _slow_for(marker: str, monkeypatch):
    """Make extraction of any article whose text contains ``marker`` sleep for SLOW_S seconds."""
    real = pipeline.extract.extract_article

    def slow(article, profiles, doc):
        if marker in article.text:
            time.sleep(SLOW_S)
        return real(article, profiles, doc)

    monkeypatch.setattr(pipeline.extract, "extract_article", slow)


@pytest.mark.parametrize("processes", ["1", "2"])
def test_a_page_past_its_time_limit_fails_alone_and_keeps_its_rows(tmp_path, monkeypatch, processes):
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    for seed in range(3):
        (raw / f"page{seed}.html").write_text(profiles_page(2_500, seed=seed))
    monkeypatch.setenv("STORY_EXTRACTOR_PROCESSES", processes)
    assert not extract_corpus(raw, out, progress=False).failures
    before = _articles(out)

    (raw / "page1.html").write_text(profiles_page(2_500, seed=1).replace("</div></article>", "<p>Slow marker.</p></div></article>"))
    for seed in (0, 2):  # changed too, so they are extracted again in the same run
        updated = profiles_page(2_500, seed=seed).replace("</div></article>", "<p>Updated.</p></div></article>")
        (raw / f"page{seed}.html").write_text(updated)
    _slow_for("Slow marker", monkeypatch)
    monkeypatch.setenv(pagework.PAGE_TIME_LIMIT_ENV, "1")
    started = time.monotonic()
    summary = extract_corpus(raw, out, progress=False)
    assert time.monotonic() - started < SLOW_S
    assert [(f.path, f.reason) for f in summary.failures] == [("page1.html", "timed out after 1 s")]
    after = _articles(out)
    assert after["page1.html"]["source_sha256"] == before["page1.html"]["source_sha256"]  # previous rows kept
    for other in ("page0.html", "page2.html"):
        assert after[other]["source_sha256"] != before[other]["source_sha256"]  # the other pages landed


def test_the_time_limit_restores_the_alarm_it_found():
    def previous(signum, frame):
        raise AssertionError("the earlier alarm must not fire during the test")

    old = signal.signal(signal.SIGALRM, previous)
    try:
        signal.setitimer(signal.ITIMER_REAL, 50)
        with pagework._time_limit(5):
            pass
        assert signal.getsignal(signal.SIGALRM) is previous
        assert 40 < signal.getitimer(signal.ITIMER_REAL)[0] <= 50
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_the_time_limit_comes_from_the_environment(monkeypatch, caplog):
    monkeypatch.setenv(pagework.PAGE_TIME_LIMIT_ENV, "7.5")
    assert pagework.page_time_limit() == 7.5
    monkeypatch.setenv(pagework.PAGE_TIME_LIMIT_ENV, "0")
    assert pagework.page_time_limit() == 0
    monkeypatch.setenv(pagework.PAGE_TIME_LIMIT_ENV, "soon")
    with caplog.at_level(logging.WARNING, logger="pipeline.run"):
        assert pagework.page_time_limit() == pagework.PAGE_TIME_LIMIT_S
    assert "STORY_EXTRACTOR_PAGE_TIMEOUT" in caplog.text
    monkeypatch.delenv(pagework.PAGE_TIME_LIMIT_ENV)
    assert pagework.page_time_limit() == pagework.PAGE_TIME_LIMIT_S


def _chain_word_checks(tmp_path: Path, monkeypatch, repeats: int) -> int:
    """How many words the programme-name reader looks at on a page of ``repeats`` runs of capitalised heads."""
    import pipeline.extract.cohorts as cohorts
    calls = 0
    original = cohorts._is_chain_word

    def counted(token):
        nonlocal calls
        calls += 1
        return original(token)

    monkeypatch.setattr(cohorts, "_is_chain_word", counted)
    raw, out = tmp_path / f"raw{repeats}", tmp_path / f"out{repeats}"
    raw.mkdir()
    words = " ".join(["Programme Officers Senior Regional Fellows"] * repeats)
    (raw / "page.html").write_text(f"<html><body><article><h1>Capitals</h1><p>{words}</p></article></body></html>")
    assert not extract_corpus(raw, out, progress=False).failures
    return calls


def test_a_page_of_capitalised_programme_words_costs_linear_work(tmp_path, monkeypatch):
    """Every "Programme" of an unpunctuated run of capitals once looked back over the whole run (80 s for 340 KB)."""
    small, large = (_chain_word_checks(tmp_path, monkeypatch, repeats) for repeats in (400, 1600))
    assert 0 < large <= 4.5 * small  # four times the words: about four times the work, not sixteen
