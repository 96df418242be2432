"""The command line a user meets: one line per mistake, documented exit statuses, help, --version, make."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import __version__
from pipeline.__main__ import main
from pipeline.run import UPDATE_LOCK

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "raw"
SAMPLE_GOLD = ROOT / "tests" / "fixtures" / "gold"


def _one_error_line(err: str, *words: str) -> None:
    assert err.count("\n") == 1 and err.startswith("story-extractor: error: ") and "Traceback" not in err, err
    assert all(word in err for word in words), err


@pytest.fixture(scope="module")
def sample_tables(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample") / "out"
    assert main(["extract", "--raw", str(SAMPLE), "--out", str(out), "--quiet"]) == 0
    return out


def test_unknown_model_is_one_line_and_leaves_nothing_behind(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["extract", "--raw", str(SAMPLE), "--out", str(out), "--model", "no_such_model"]) == 2
    _one_error_line(capsys.readouterr().err, "no_such_model", "not installed", "--model blank")
    assert not out.exists()


def test_unknown_model_over_existing_tables_leaves_no_lock_held(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["extract", "--raw", str(SAMPLE), "--out", str(out), "--model", "blank", "--quiet"]) == 0
    assert main(["extract", "--raw", str(SAMPLE), "--out", str(out), "--model", "no_such_model"]) == 2
    assert main(["extract", "--raw", str(SAMPLE), "--out", str(out), "--model", "blank", "--quiet"]) == 0
    assert "is held" not in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--out", "--raw"])
def test_a_file_where_a_folder_is_expected_is_one_line(tmp_path, capsys, option):
    a_file = tmp_path / "README.md"
    a_file.write_text("# not a folder\n")
    args = {"--raw": str(SAMPLE), "--out": str(tmp_path / "out"), option: str(a_file)}
    assert main(["extract", *[item for pair in args.items() for item in pair]]) == 2
    _one_error_line(capsys.readouterr().err, str(a_file), "not a folder")


def test_missing_raw_folder_is_one_line(tmp_path, capsys):
    assert main(["extract", "--raw", str(tmp_path / "nope"), "--out", str(tmp_path / "out")]) == 2
    _one_error_line(capsys.readouterr().err, "does not exist")


def test_out_under_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "a-file").write_text("x")
    assert main(["extract", "--raw", str(SAMPLE), "--out", str(tmp_path / "a-file" / "out")]) == 2
    _one_error_line(capsys.readouterr().err, "is a file")


def test_lock_message_names_both_commands(tmp_path, capsys):
    from filelock import FileLock
    out = tmp_path / "out"
    out.mkdir()
    with FileLock(str(out / UPDATE_LOCK)):
        assert main(["extract", "--raw", str(SAMPLE), "--out", str(out), "--model", "blank"]) == 2
    _one_error_line(capsys.readouterr().err, "another extract or update is running")


def test_unexpected_error_is_one_line_unless_debug(tmp_path, capsys, monkeypatch):
    import pipeline.run as run

    def broken(*args, **kwargs):
        raise TypeError("a bug")

    monkeypatch.setattr(run, "extract_corpus", broken)
    args = ["extract", "--raw", str(SAMPLE), "--out", str(tmp_path / "out"), "--model", "blank"]
    assert main(args) == 1
    _one_error_line(capsys.readouterr().err, "unexpected TypeError: a bug", "--debug")
    with pytest.raises(TypeError):
        main(["--debug", *args])


@pytest.mark.parametrize("option, value", [("--delay", "inf"), ("--delay", "1e308"), ("--timeout", "nan"),
                                           ("--deadline", "-1"), ("--timeout", "soon")])
def test_seconds_that_no_clock_can_use_are_a_usage_error(tmp_path, capsys, option, value):
    with pytest.raises(SystemExit) as stop:
        main(["fetch", "--raw", str(tmp_path / "raw"), option, value])
    assert stop.value.code == 2 and "expected seconds from 0 to" in capsys.readouterr().err


def test_help_shows_every_option_with_its_default(capsys):
    with pytest.raises(SystemExit):
        main(["extract", "--help"])
    text = " ".join(capsys.readouterr().out.split())  # help wraps with the terminal width
    for option in ("--raw", "--out", "--model", "--prune", "--follow-symlinks", "--quiet"):
        assert option in text
    assert "(default: raw)" in text and "(default: extracted)" in text
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: tests/fixtures/gold)" in text and "--show-errors" in text


def test_top_level_help_is_plain_text(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "``" not in text and "exit status" in text and "extract" in text


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out == f"story-extractor {__version__}\n"


def test_installed_command_works_from_any_folder(tmp_path):
    command = Path(sys.executable).parent / "story-extractor"
    if not command.exists():
        pytest.skip("the project is not installed in this environment (make setup installs it)")
    done = subprocess.run([str(command), "--version"], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.strip() == f"story-extractor {__version__}"


# --- eval ---------------------------------------------------------------------------------------------


def test_eval_into_a_closed_pipe_ends_quietly(sample_tables):
    done = subprocess.run(f"'{sys.executable}' -m pipeline eval --gold '{SAMPLE_GOLD}' --extracted '{sample_tables}' "
                          f"--show-errors | head -n 1", shell=True, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.stdout.startswith("field") and done.stderr == ""


def test_eval_prints_na_for_fields_with_nothing_to_score(tmp_path, capsys):
    raw, out, gold = tmp_path / "raw", tmp_path / "out", tmp_path / "gold"
    raw.mkdir()
    gold.mkdir()
    (raw / "quiet.html").write_text("<html><body><h1>A Quiet Week</h1><p>The library was closed for repairs and "
                                    "reopened with new shelves.</p></body></html>")
    assert main(["extract", "--raw", str(raw), "--out", str(out), "--model", "blank", "--quiet"]) == 0
    (gold / "quiet.json").write_text(json.dumps({"title": "A Quiet Week", "published": None, "people": [
        {"name": "Olga Petrenko", "roles": [], "countries": [], "programmes": []}], "dates": [], "batches": []}))
    capsys.readouterr()
    assert main(["eval", "--gold", str(gold), "--extracted", str(out), "--json", str(tmp_path / "s.json")]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert lines["role_title"].split()[1:4] == ["n/a", "n/a", "n/a"]
    assert lines["people"].split()[1:4] == ["n/a", "0.000", "0.000"]  # nothing extracted, one missed
    assert lines["role_status"].split()[1] == "n/a"
    scores = json.loads((tmp_path / "s.json").read_text())
    assert scores["f1"]["role_title"]["f1"] is None and scores["accuracy"]["role_status"]["accuracy"] is None
    assert scores["f1"]["people"] | {} == {"tp": 0, "fp": 0, "fn": 1, "precision": None, "recall": 0.0, "f1": 0.0}


def test_eval_warns_about_gold_that_matched_nothing(sample_tables, tmp_path, capsys):
    gold = tmp_path / "gold"
    gold.mkdir()
    stray = json.loads(sorted(SAMPLE_GOLD.glob("*.json"))[0].read_text()) | {"title": "A Story Nobody Extracted"}
    (gold / "stray.json").write_text(json.dumps(stray))
    assert main(["eval", "--gold", str(gold), "--extracted", str(sample_tables)]) == 0
    err = capsys.readouterr().err
    assert "warning: stray.json: no extracted article titled 'A Story Nobody Extracted'" in err
    assert "no gold article matched" in err


def test_eval_show_errors_lists_misses_and_extras(sample_tables, tmp_path, capsys):
    gold = tmp_path / "gold"
    shutil.copytree(SAMPLE_GOLD, gold)
    path = sorted(gold.glob("*.json"))[0]
    data = json.loads(path.read_text())
    data["people"].append({"name": "Imaginary Person", "roles": []})
    path.write_text(json.dumps(data))
    main(["eval", "--gold", str(gold), "--extracted", str(sample_tables), "--show-errors"])
    out = capsys.readouterr().out
    assert "people: 1 errors" in out and "missing imaginary person" in out.lower()


# --- make ---------------------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_extract_quotes_paths_with_spaces(tmp_path):
    raw = tmp_path / "My Pages"
    shutil.copytree(SAMPLE, raw)
    out = tmp_path / "My Tables"
    venv = Path(sys.executable).parent.parent
    done = subprocess.run(["make", "-s", "-o", f"{venv}/.installed", "extract", f"RAW={raw}", f"EXTRACTED={out}",
                           f"VENV={venv}"], cwd=ROOT, capture_output=True, text=True, check=False,
                          env=os.environ | {"STORY_EXTRACTOR_MODEL": "blank"})
    assert done.returncode == 0, done.stderr
    assert (out / "articles.parquet").exists()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_refuses_an_old_python_in_one_line(tmp_path):
    old_python = tmp_path / "python3.10"
    old_python.write_text("#!/bin/sh\n[ \"$1\" = --version ] && echo 'Python 3.10.13' && exit 0\nexit 1\n")
    old_python.chmod(0o755)
    done = subprocess.run(["make", "-s", "setup", f"PYTHON={old_python}", f"VENV={tmp_path / 'venv'}"],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "needs Python >= 3.11" in done.stderr and "Python 3.10.13" in done.stderr
    assert not (tmp_path / "venv").exists()
