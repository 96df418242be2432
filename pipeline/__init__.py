"""Story extractor: narrative HTML stories about people → normalized, evidence-linked Parquet tables."""

import hashlib
from functools import lru_cache
from pathlib import Path

__version__ = "0.1.0"


@lru_cache(maxsize=1)
def pipeline_version() -> str:
    """Release version plus a fingerprint of the code and pattern files.

    Stored in ``articles.pipeline_version``: an article is re-extracted when its page changed or when the
    extraction code or patterns changed since it was written, and left alone otherwise.
    """
    package = Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted([*package.glob("*.py"), *package.glob("patterns/*.json*")]):
        if path.name in {"bench.py", "evaluate.py", "__main__.py"}:
            continue
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:10]}"
