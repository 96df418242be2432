"""Story extractor: narrative HTML stories about people → normalized, evidence-linked Parquet tables."""

__version__ = "0.1.0"
