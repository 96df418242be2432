"""The stage packages: each module stays small (one concern each); every extract module counts in the pipeline fingerprint."""
import importlib.util
import shutil
from pathlib import Path

import pytest

import pipeline

PACKAGE = Path(pipeline.__file__).parent
MAX_MODULE_LINES = 400  # issue 8: one concern (a fact family, an HTTP job) per module, small enough to read in one sitting


@pytest.mark.parametrize("stage", ["extract", "fetch", "parse"])
def test_every_module_of_a_stage_package_stays_small(stage):
    sizes = {path.name: len(path.read_text(encoding="utf-8").splitlines()) for path in (PACKAGE / stage).glob("*.py")}
    assert len(sizes) > 1, f"{stage} is a package of several modules"
    assert {name: lines for name, lines in sizes.items() if lines > MAX_MODULE_LINES} == {}


def _fingerprint(package: Path) -> str:
    """``pipeline_version()`` of the package copy at ``package`` (loaded fresh, so nothing is cached)."""
    spec = importlib.util.spec_from_file_location("pipeline_copy", package / "__init__.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.pipeline_version()


def test_a_change_to_any_extract_module_changes_the_fingerprint(tmp_path):
    copy = tmp_path / "pipeline"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = _fingerprint(copy)
    assert before == pipeline.pipeline_version()
    for module in sorted((copy / "extract").glob("*.py")):
        module.write_text(module.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
        after = _fingerprint(copy)
        assert after != before, f"editing extract/{module.name} left the fingerprint as it was"
        before = after
