"""notebooks/explore.ipynb runs headless from a fresh clone: it extracts its own tables and draws its plots."""
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is a test dependency: pip install -e '.[test]'")
nbclient = pytest.importorskip("nbclient", reason="nbclient is a test dependency: pip install -e '.[test]'")

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "explore.ipynb"
CELL_TIMEOUT = 300  # seconds; the first cell extracts the 18 dev-set pages, which loads spaCy (about 15 s here)
PLOTS = 4  # career timeline, cohort sizes, people per country, people per country per year


def _images(notebook) -> int:
    return sum("image/png" in output.get("data", {})
               for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs)


def _stream_text(notebook) -> str:
    return "".join(output.get("text", "") for cell in notebook.cells if cell.cell_type == "code"
                   for output in cell.outputs if output.output_type == "stream")


def test_notebook_runs_headless_on_a_fresh_clone_and_draws_its_plots(tmp_path, monkeypatch):
    """No tables yet (as in a fresh clone): the notebook extracts the dev set itself, then plots."""
    monkeypatch.setenv("STORY_EXTRACTOR_TABLES", str(tmp_path / "tables"))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()

    text = _stream_text(notebook)
    pages = len(list((NOTEBOOK.parent.parent / "tests" / "devset" / "raw").glob("*.html")))
    assert re.search(rf"{pages} pages \({pages} new,.* 0 failures", text), text
    assert (tmp_path / "tables" / "roles.parquet").is_dir()
    articles = int(re.search(r": (\d+) articles, \d+ roles", text).group(1))
    assert articles >= 2, "the career shown is of someone named in several articles"
    assert _images(notebook) == PLOTS


def test_the_committed_notebook_keeps_its_outputs():
    """Readers on GitHub see the plots without running anything."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert _images(notebook) == PLOTS
    assert all(cell.outputs for cell in notebook.cells if cell.cell_type == "code"), "run it and save the outputs"
