"""Story extractor: narrative HTML stories about people → normalized, evidence-linked Parquet tables."""

import hashlib
from functools import lru_cache
from pathlib import Path

__version__ = "0.1.0"


# The modules whose code decides what the rows hold (a module, or a package of that name, and its data files).
# Wiring, storage, engines, evaluation and benchmarks are left out: changing them re-extracts nothing.
EXTRACTION_MODULES = ("parse", "segment", "nlp", "extract", "normalize", "records", "write", "resolve", "schema",
                      "patterns")


# The learned scorer's coefficients (``make train-scorer``). Kept out of ``EXTRACTION_MODULES`` because the
# file records the code fingerprint it was trained on; ``pipeline_version`` adds its bytes on top.
SCORER_MODEL = Path(__file__).parent / "models" / "scorer.json"


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Fingerprint of the extraction code and pattern files (not the scorer model trained on their output)."""
    package = Path(__file__).parent
    digest = hashlib.sha256()
    files = [path for path in package.rglob("*") if path.suffix in {".py", ".json", ".jsonl"}
             and path.relative_to(package).parts[0].removesuffix(".py") in EXTRACTION_MODULES]
    for path in sorted(files):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


@lru_cache(maxsize=1)
def pipeline_version() -> str:
    """Release version plus a fingerprint of the extraction code, pattern files and scorer model.

    Stored in ``articles.pipeline_version``: an article is re-extracted when its page changed or when the
    extraction code, patterns or scorer model changed since it was written, and left alone otherwise.
    """
    digest = hashlib.sha256(code_fingerprint().encode())
    if SCORER_MODEL.exists():
        digest.update(SCORER_MODEL.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:10]}"
