"""The real development pages (../shared/realdev) scored against their floors, when their text is here.

The page texts are third-party and never committed: they are rebuilt locally (see
``$REALDEV/README.md``) into ``$REALDEV_TEXT`` (default ``build/realdev/text``). Without them, or without
the gold folder, the test is skipped with the reason; ``make eval-real`` prints the same numbers.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.evaluate import evaluate
from pipeline.run import extract_corpus
from test_accuracy import FLOORS, _value

ROOT = Path(__file__).resolve().parent.parent
REALDEV = Path(os.environ.get("REALDEV", ROOT.parent / "shared" / "realdev"))
REALDEV_TEXT = Path(os.environ.get("REALDEV_TEXT", ROOT / "build" / "realdev" / "text"))
if not REALDEV.is_absolute():
    REALDEV = ROOT / REALDEV
if not REALDEV_TEXT.is_absolute():
    REALDEV_TEXT = ROOT / REALDEV_TEXT
PAGES_FROM_TEXT = REALDEV.parent / "bin" / "pages-from-text"


def _missing() -> str | None:
    if not (REALDEV / "gold").is_dir():
        return f"no realdev gold at {REALDEV / 'gold'} (set REALDEV)"
    if not any(REALDEV_TEXT.glob("*.txt")):
        return f"no realdev page text in {REALDEV_TEXT} (rebuild it as {REALDEV / 'README.md'} says)"
    if not PAGES_FROM_TEXT.is_file():
        return f"no page builder at {PAGES_FROM_TEXT}"
    return None


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    reason = _missing()
    if reason:
        pytest.skip(reason)
    raw, out = tmp_path_factory.mktemp("realdev_raw"), tmp_path_factory.mktemp("realdev_out")
    subprocess.run([sys.executable, str(PAGES_FROM_TEXT), "cache", str(REALDEV_TEXT), str(raw)], check=True,
                   capture_output=True)
    summary = extract_corpus(raw, out, progress=False)
    assert not summary.failures
    return evaluate(REALDEV / "gold", out)


def test_every_text_has_its_gold():
    """A rebuilt text without gold (or a misspelt slug) would silently drop out of the score."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    gold = {path.stem for path in (REALDEV / "gold").glob("*.json")}
    assert {path.stem for path in REALDEV_TEXT.glob("*.txt")} == gold


def test_real_pages_stay_above_floors(report):
    floors = FLOORS["realdev"]["floors"]
    below = {key: (_value(report, key), floor) for key, floor in floors.items() if _value(report, key) < floor}
    assert not below, f"realdev: fields below their floor (score, floor): {below}"


def test_real_pages_have_no_not_dates(report):
    assert len(report["not_dates_extracted"]) <= FLOORS["realdev"]["max_not_dates"], report["not_dates_extracted"]

