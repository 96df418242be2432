"""The spaCy pipeline: the statistical English model for candidates, then one ``span_ruler`` per pattern family.

Only the components extraction needs are loaded (NER and sentence boundaries, no parser, tagger or
lemmatizer), which is where most of the speed over the bare model comes from.
"""
from __future__ import annotations

from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.symbols import ORTH
from spacy.tokens import Doc

from .model import ModelNotFound, model_name
from .normalize import country_phrases, demonym_phrases
from .patterns import RULE_FAMILIES, lexicon, load_jsonl

UNUSED_COMPONENTS = ["tagger", "parser", "attribute_ruler", "lemmatizer"]


@spacy.registry.misc("story_extractor.rules.v1")
def rule_patterns(family: str) -> list[dict]:
    """Patterns of one family, read from ``pipeline/patterns/<family>.jsonl``."""
    return load_jsonl(family)


@spacy.registry.misc("story_extractor.country_patterns.v1")
def country_patterns() -> list[dict]:
    """Phrase patterns for every country spelling (label COUNTRY) and demonym (label DEMONYM)."""
    patterns = [{"label": "COUNTRY", "pattern": phrase, "id": "country-name"} for phrase in country_phrases()]
    patterns += [{"label": "DEMONYM", "pattern": phrase, "id": "country-demonym"} for phrase in demonym_phrases()]
    return patterns


@Language.component("block_boundaries")
def block_boundaries(doc: Doc) -> Doc:
    """A blank line between blocks always ends a sentence (headings and captions have no full stop)."""
    for token in doc[1:]:
        if "\n" in doc[token.i - 1].whitespace_ or doc[token.i - 1].is_space and "\n" in doc[token.i - 1].text:
            token.is_sent_start = True
    return doc


@lru_cache(maxsize=4)
def build_nlp(model: str | None = None) -> Language:
    """Load the model (or ``blank`` for rules alone) and add the rule components after NER."""
    name = model_name(model)
    if name == "blank":
        nlp = spacy.blank("en")
        nlp.add_pipe("sentencizer")
    else:
        try:
            nlp = spacy.load(name, exclude=UNUSED_COMPONENTS)
        except OSError as error:  # spaCy's E050/E053: not a model package or folder
            raise ModelNotFound(f"spaCy model {name!r} cannot be loaded: {error}") from None
        if "senter" in nlp.disabled:
            nlp.enable_pipe("senter")
        if "tok2vec" in nlp.pipe_names and not nlp.get_pipe("tok2vec").listening_components:
            nlp.remove_pipe("tok2vec")
        if not nlp.has_pipe("senter"):
            nlp.add_pipe("sentencizer", first=True)
    for abbreviation in lexicon()["name_abbreviations"]:  # "Ma. Cristina", "Mohd. Aziz": one token, no sentence end
        nlp.tokenizer.add_special_case(abbreviation, [{ORTH: abbreviation}])
    nlp.add_pipe("block_boundaries", after="senter" if nlp.has_pipe("senter") else "sentencizer")
    for family in (*RULE_FAMILIES, "countries"):
        ruler = nlp.add_pipe("span_ruler", name=f"{family}_ruler", config={
            "spans_key": family,
            "spans_filter": {"@misc": "spacy.first_longest_spans_filter.v1"},
            "phrase_matcher_attr": "ORTH",
            "validate": True,
        })
        ruler.add_patterns(country_patterns() if family == "countries" else rule_patterns(family))
    return nlp
