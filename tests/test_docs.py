"""Documentation that is generated must be up to date."""
from pathlib import Path

from pipeline.schema import data_dictionary

ROOT = Path(__file__).resolve().parent.parent


def test_data_dictionary_is_generated_from_the_schema():
    committed = (ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert committed.strip() == data_dictionary().strip(), "run `make dictionary` and commit docs/data-dictionary.md"


def test_readme_names_the_two_commands_and_every_table():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme and "make test" in readme
    from pipeline.schema import TABLES
    assert all(f"`{name}`" in readme for name in TABLES)


def test_readme_career_query_runs_on_the_dev_set(tmp_path):
    import re

    from pipeline.run import extract_corpus
    extract_corpus(ROOT / "tests" / "devset" / "raw", tmp_path, progress=False)
    code = re.search(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S).group(1)
    namespace: dict = {}
    exec(compile(code.replace("build/devset/", f"{tmp_path}/"), "README.md", "exec"), namespace)
    career = namespace["career"]
    assert len(set(career.title_article)) >= 2, "one person_id across several articles"
    assert {"Director", "Technical Officer"} <= set(career.title)
