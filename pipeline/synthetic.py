"""Large synthetic story pages for the size benchmark and the bounded-work tests.

Every person and organisation is invented from syllables (no name of a real page appears); countries and
job titles are the ordinary words the patterns know. The prose imitates what the linkers read: profile
headings ("Name, Title, Organisation, Country"), honorifics, "joined ... as", "was promoted to", batches,
dates and pronouns, so a synthetic page exercises every stage the way a long real page would.
"""
from __future__ import annotations

import html
import random
import re

GIVEN = ("Talven", "Orsina", "Meriko", "Vasko", "Ilvane", "Dorrit", "Quenby", "Saphel", "Arvid", "Lusane", "Korin",
         "Fenna", "Jorvik", "Elsabet", "Marek", "Tiora", "Bastien", "Nerys", "Odalric", "Pirelle")
FAMILY_HEADS = ("Quill", "Vantr", "Osg", "Belc", "Thrond", "Meriv", "Hallo", "Kestr", "Dunm", "Pell", "Arkw", "Zendr",
                "Fallow", "Ostr", "Crenn", "Vosk", "Tarrab", "Lindqu")
FAMILY_TAILS = ("ore", "eska", "arde", "ourte", "ak", "ane", "way", "ince", "oreau", "anor", "ell", "ova")
ORG_STEMS = ("Quellmoor", "Brantvale", "Ostrell", "Dunharrow", "Velmaine", "Korrinth", "Saltmarsh", "Everlune")
ORG_KINDS = ("Institute of Applied Hydrology", "Agency for Coastal Planning", "Centre for Rural Health", "Ministry of Rivers",
             "Bureau of Statistics", "University of Technology", "Authority for Ports", "Foundation for Literacy")
TITLES = ("Director", "Deputy Director", "Senior Officer", "Programme Coordinator", "Researcher", "Lecturer",
          "Project Manager", "Chief Engineer", "Analyst", "Consultant")
COUNTRIES = ("Thailand", "Viet Nam", "Indonesia", "Malaysia", "Cambodia", "Philippines", "Myanmar", "Lao PDR", "Singapore",
             "Brunei Darussalam")
MONTHS = ("January", "March", "April", "June", "September", "October", "November")
PROGRAMME = "Harbourlight Exchange Programme"
FILLER = ("The work covered water quality, training plans and the budgets of several districts.",
          "Colleagues described the visits as practical and well organised.",
          "The team met local officials every week to review the progress of each site.",
          "Several reports were published and shared with partner schools in the region.")


def _name(rng: random.Random) -> tuple[str, str]:
    return rng.choice(GIVEN), rng.choice(FAMILY_HEADS) + rng.choice(FAMILY_TAILS)


def _org(rng: random.Random) -> str:
    return f"{rng.choice(ORG_STEMS)} {rng.choice(ORG_KINDS)}"


def _profile_paragraphs(rng: random.Random, given: str, family: str, pronoun: str, honorific: str) -> list[str]:
    year = rng.randint(1995, 2015)
    other_given, other_family = _name(rng)
    possessive = "her" if pronoun == "she" else "his"
    return [
        f"{given} {family} joined the {_org(rng)} in {year} as a {rng.choice(TITLES)}. In {rng.choice(MONTHS)} "
        f"{year + rng.randint(2, 6)} {pronoun} was promoted to {rng.choice(TITLES)} of the {_org(rng)}.",
        f"{honorific} {family} took part in the {rng.randint(1, 9)}th Batch of the {PROGRAMME} ({year + 1}-{year + 2}). "
        f"“It changed how I plan my work,” {honorific} {family} said. {rng.choice(FILLER)}",
        f"Since {year + 7}, {pronoun} has worked with Dr. {other_given} {other_family}, a researcher from "
        f"{rng.choice(COUNTRIES)}, on {possessive} current project. {rng.choice(FILLER)}",
    ]


def _page(title: str, blocks: list[str]) -> str:
    body = "\n".join(blocks)
    return (f"<!doctype html><html><head><title>{html.escape(title)}</title></head><body><article>"
            f"<h1>{html.escape(title)}</h1><time datetime=\"2024-05-02\">2 May 2024</time>"
            f"<div class=\"entry-content\">\n{body}\n</div></article></body></html>\n")


def profiles_page(chars: int, seed: int = 0) -> str:
    """A page of about ``chars`` characters of text: profile after profile of different (invented) people."""
    rng = random.Random(seed)
    blocks, size = [], 0
    while size < chars:
        given, family = _name(rng)
        female = rng.random() < 0.5
        heading = f"{given} {family}, {rng.choice(TITLES)}, {_org(rng)}, {rng.choice(COUNTRIES)}"
        paragraphs = _profile_paragraphs(rng, given, family, "she" if female else "he", "Ms." if female else "Mr.")
        blocks.append(f"<h3>{html.escape(heading)}</h3>")
        blocks += [f"<p>{html.escape(p)}</p>" for p in paragraphs]
        size += len(heading) + sum(len(p) for p in paragraphs) + 2 * (1 + len(paragraphs))
    return _page(f"Alumni of the {PROGRAMME} look back", blocks)


SENTENCE_END = re.compile(r"(?:(?<=\.)|(?<=\.”))(?<!Mr\.)(?<!Ms\.)(?<!Dr\.)\s+(?=[A-Z“])")


def one_person_page(paragraphs: int, seed: int = 0) -> str:
    """One (invented) person's profile heading followed by ``paragraphs`` one-sentence paragraphs about that
    person (about 90 characters each, so 10,000 paragraphs stay under spaCy's default ``max_length``)."""
    rng = random.Random(seed)
    given, family = _name(rng)
    heading = f"{given} {family}, Director, {_org(rng)}, {rng.choice(COUNTRIES)}"
    blocks = [f"<h3>{html.escape(heading)}</h3>"]
    while len(blocks) <= paragraphs:
        for paragraph in _profile_paragraphs(rng, given, family, "he", "Mr."):
            blocks += [f"<p>{html.escape(sentence)}</p>" for sentence in SENTENCE_END.split(paragraph)]
    return _page(f"A long career: {given} {family}", blocks[:paragraphs + 1])


# One unpunctuated run of a repeated unit: the shapes where a rule that walks back (or forward) over capitalised
# words, titles or names from each match would cost the square of the run's length. Every word is invented or
# ordinary; ``make bench`` (``pipeline.bench_growth``) times each at two sizes.
RUN_SHAPES = {
    "capitalised programme words": "Programme Officers Senior Regional Fellows ",
    "capitalised names": "Talven Quillore Orsina Belcarde Harbour Office Trust Council ",
    "acronym titles": "DDG HLO RFT MNC ACR ",
    "organisation chains": "Ministry of Health and Trade and Fisheries and Marine and Coastal Affairs Office of the Trust for ",
    "name lists": "three fellows, Talven Quillore, Orsina Belcarde, Meriko Vantrak, Vasko Osgane, ",
    "plural titles before names": "The two Programme Officers, Talven Quillore and Orsina Belcarde, ",
    "bracketed acronyms": "the Harbour Liaison Office (HLO) and (RFT) (2020) ",
    "lower-case words": "the quick brown fox jumps over the lazy dog ",
}


def run_page(shape: str, chars: int) -> str:
    """A page whose text is one paragraph of about ``chars`` characters: ``RUN_SHAPES[shape]`` repeated."""
    unit = RUN_SHAPES[shape]
    return _page(f"A run of {shape}", [f"<p>{html.escape(unit * max(1, chars // len(unit)))}</p>"])
