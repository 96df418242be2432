"""The spaCy pipeline: the statistical English model for candidates, then one ``span_ruler`` per pattern family.

Only the components extraction needs are loaded (NER and sentence boundaries, no tagger or lemmatizer), which
is where most of the speed over the bare model comes from. The dependency parser is loaded but runs only on the
sentences that hold a title (``parse_title_sentences``), where ``extract.syntax`` looks for links.
"""
from __future__ import annotations

from bisect import bisect_left
from functools import lru_cache

import spacy
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.symbols import ORTH
from spacy.tokens import Doc

from .model import ModelNotFound, model_name
from .normalize import country_phrases, demonym_phrases
from .patterns import RULE_FAMILIES, lexicon, load_jsonl

UNUSED_COMPONENTS = ["tagger", "attribute_ruler", "lemmatizer"]
# Run on demand, on the sentences with a title only: the parser and the token vectors it listens to. Over a
# whole page they cost about a sixth of the pipeline's time (make bench); the title sentences are a fraction.
ON_DEMAND_COMPONENTS = ("tok2vec", "parser")
# A longer "sentence" is a list, a table row or text without full stops (a 1 MB line of words in the fuzz run:
# 21 sentences of 7,800 tokens, all parsed): its links are not worth the parser's time. The longest sentence
# with a title in the pages of the gold sets (sample, dev, both held-out sets, realdev) has 134 tokens.
MAX_PARSED_SENTENCE_TOKENS = 150
SENTENCE_PARSES = "sentence_parses"  # Doc.user_data key: [(first token in the Doc, the parsed sentence)]


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
    """A blank line between blocks always ends a sentence (headings and captions have no full stop).

    The starts are written as one array: setting ``token.is_sent_start`` checks the whole doc for a parse
    on every call, which made this step quadratic in the length of a page.
    """
    starts = [token.i + 1 for token in doc[:-1] if "\n" in token.whitespace_ or token.is_space and "\n" in token.text]
    if starts:
        sentence_starts = doc.to_array([SENT_START])
        sentence_starts[starts] = 1
        doc.from_array([SENT_START], sentence_starts)
    return doc


# Longer article texts go through spaCy in pieces of at most this many characters, cut at blank lines between
# blocks, and the pieces are joined back into one Doc. The NER model's time and memory grow faster than the
# length of one text (a 300,000-character text took 6x the time of a 100,000-character one, and 1 GB), so
# bounded pieces keep a long page linear. Real story pages are 5,000-30,000 characters and never cut.
NLP_CHUNK_CHARS = 50_000
BLOCK_SEPARATOR = "\n\n"  # how parse joins the blocks of an article's text


def text_chunks(text: str, limit: int = NLP_CHUNK_CHARS) -> list[str]:
    """``text`` in consecutive pieces of at most ``limit`` characters that join back to ``text`` exactly.

    A piece ends after a blank line between blocks; a single block longer than ``limit`` is cut after the
    last sentence end (". ") in reach, else after the last space, else at ``limit``.
    """
    pieces, start = [], 0
    while len(text) - start > limit:
        window = text[start:start + limit]
        cut = window.rfind(BLOCK_SEPARATOR)
        cut = cut + len(BLOCK_SEPARATOR) if cut > 0 else window.rfind(". ") + 2
        if cut <= 1:
            cut = window.rfind(" ") + 1
        if cut <= 0:
            cut = limit
        pieces.append(text[start:start + cut])
        start += cut
    pieces.append(text[start:])
    return pieces


def process_text(nlp: Language, text: str, limit: int = NLP_CHUNK_CHARS) -> Doc:
    """One Doc for ``text``: ``nlp(text)`` when it is short, else its pieces (``text_chunks``) processed
    separately and joined, with their entities, sentences and rule spans, at the same character offsets."""
    if len(text) <= limit:
        doc = nlp(text)
    else:
        docs = list(nlp.pipe(text_chunks(text, limit), batch_size=1))
        doc = Doc.from_docs(docs, ensure_whitespace=False, exclude=["tensor", "user_data"])
    doc.user_data[SENTENCE_PARSES] = parse_title_sentences(nlp, doc)
    return doc


def parse_title_sentences(nlp: Language, doc: Doc) -> list[tuple[int, Doc]]:
    """(first token, dependency parse) of each sentence of ``doc`` that holds a title span and has at most
    ``MAX_PARSED_SENTENCE_TOKENS`` tokens; the whole Doc when the model parsed it all (a model whose parser is
    not on demand); nothing when the model has no parser (the blank model)."""
    if not all(name in nlp.disabled for name in ON_DEMAND_COMPONENTS):
        return [(0, doc)] if doc.has_annotation("DEP") else []
    title_starts = sorted(title.start for title in doc.spans.get("titles", []))
    if not title_starts:
        return []
    sentences = [sentence for sentence in doc.sents if len(sentence) <= MAX_PARSED_SENTENCE_TOKENS
                 and bisect_left(title_starts, sentence.start) < bisect_left(title_starts, sentence.end)]
    # a new Doc of the sentence's words: Span.as_doc copies every span group of the whole Doc each time, which
    # made a page with thousands of title sentences quadratic
    parsed = [Doc(doc.vocab, words=[t.text for t in sentence], spaces=[bool(t.whitespace_) for t in sentence])
              for sentence in sentences]
    for name in ON_DEMAND_COMPONENTS:
        parsed = list(nlp.get_pipe(name).pipe(parsed))
    return [(sentence.start, sentence_doc) for sentence, sentence_doc in zip(sentences, parsed)]


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
        if "parser" in nlp.pipe_names and "tok2vec" in nlp.pipe_names \
                and nlp.get_pipe("tok2vec").listening_components == ["parser"]:
            for component in ON_DEMAND_COMPONENTS:
                nlp.disable_pipe(component)
        elif "tok2vec" in nlp.pipe_names and not nlp.get_pipe("tok2vec").listening_components:
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
        with nlp.select_pipes(enable=[]):  # phrase patterns need only the tokenizer, not a parse of each
            ruler.add_patterns(country_patterns() if family == "countries" else rule_patterns(family))
    return nlp
