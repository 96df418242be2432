"""Story extractor: narrative HTML stories about people → normalized, evidence-linked Parquet tables."""

import hashlib
from functools import lru_cache
from pathlib import Path

__version__ = "0.1.0"


# The modules whose code decides what the rows hold (a module, or a package of that name, and its data files).
# Wiring, storage, engines, evaluation and benchmarks are left out: changing them re-extracts nothing.
EXTRACTION_MODULES = ("parse", "segment", "nlp", "extract", "normalize", "records", "write", "resolve", "schema",
                      "patterns")


@lru_cache(maxsize=1)
def pipeline_version() -> str:
    """Release version plus a fingerprint of the extraction code and pattern files.

    Stored in ``articles.pipeline_version``: an article is re-extracted when its page changed or when the
    extraction code or patterns changed since it was written, and left alone otherwise.
    """
    package = Path(__file__).parent
    digest = hashlib.sha256()
    files = [path for path in package.rglob("*") if path.suffix in {".py", ".json", ".jsonl"}
             and path.relative_to(package).parts[0].removesuffix(".py") in EXTRACTION_MODULES]
    for path in sorted(files):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:10]}"
