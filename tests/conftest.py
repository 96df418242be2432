"""Fixtures shared by the test files that read extracted tables rather than produce them."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEVSET_RAW = ROOT / "tests" / "devset" / "raw"


@pytest.fixture(scope="session")
def devset_tables(tmp_path_factory) -> Path:
    """The dev set's tables, extracted once per session (read-only for the tests that use them)."""
    from pipeline.run import extract_corpus
    out = tmp_path_factory.mktemp("devset-tables")
    summary = extract_corpus(DEVSET_RAW, out, progress=False)
    assert not summary.failures, summary.failures
    return out
