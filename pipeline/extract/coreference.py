"""Coreference within one article: which person each mention, pronoun or bare reference means.

Short forms ("Novak", "Prof. Lind", "Mr. Tanaka") join the full name whose words they contain; a bare given
name or surname of someone already named in full becomes a mention too. "He", "she" and "the Rector" mean
the person the section is about, else the person named last whose honorific agrees with the pronoun.
"""
from __future__ import annotations

from collections import defaultdict
from functools import lru_cache

from ..normalize import fold, name_key
from ..records import Person
from .context import MODEL, Context, PersonMention, entity_at, sent_of
from .people import honorifics_before


class _PeopleIndex:
    """The article's people by the words of their names, so matching a mention looks only at the people who
    share a word with it (not at everyone on a page of thousands of profiles). Answers are in the order
    the people were first added, as a scan of the ``people`` dict would give them."""

    def __init__(self, people: dict[str, Person]):
        self.people = people
        self.order: dict[str, int] = {}
        self.by_word: dict[str, set[str]] = defaultdict(set)
        self.wordless: set[str] = set()  # names with no word left after folding match every mention
        for key in people:
            self.add(key)

    def add(self, key: str) -> None:
        """Index (again) the person under ``key``, after it was added or its name changed."""
        self.order.setdefault(key, len(self.order))
        words = _name_words(self.people[key].name)
        for word in words:
            self.by_word[word].add(key)
        if not words:
            self.wordless.add(key)

    def _in_order(self, keys: set[str]) -> list[Person]:
        return [self.people[key] for key in sorted(keys, key=self.order.__getitem__)]

    def sharing(self, words: frozenset[str]) -> list[Person]:
        """People whose name shares a word with ``words``, the wordless, or everyone when ``words`` is empty."""
        if not words:
            return list(self.people.values())
        return self._in_order(set().union(*(self.by_word.get(word, ()) for word in words)) | self.wordless)

    def containing(self, words: frozenset[str]) -> list[Person]:
        """People whose name has every word of ``words``."""
        if not words:
            return list(self.people.values())
        keys = set.intersection(*(self.by_word.get(word, set()) for word in words))
        return [p for p in self._in_order(keys) if words <= _name_words(p.name)]


@lru_cache(maxsize=1 << 16)
def _name_words(text: str) -> frozenset[str]:
    """The folded words of a name (cached: coreference asks for the same names again and again)."""
    return frozenset(fold(text).split())


def resolve_people(ctx: Context, mentions: list[PersonMention]) -> None:
    """Coreference within the article: short forms join the full name whose words they share."""
    full = [m for m in mentions if len(m.text.split()) >= 2]
    people: dict[str, Person] = {}
    index = _PeopleIndex(people)
    for mention in full:
        words = _name_words(mention.text)
        match = next((p for p in index.sharing(words) if words <= _name_words(p.name) or _name_words(p.name) <= words), None)
        if match is None:
            key = name_key(mention.text)
            people[key] = Person(key=key, name=mention.text, first_start=mention.start)
            index.add(key)
        elif len(mention.text.split()) > len(match.name.split()):
            match.aliases.add(match.name)
            match.name = mention.text
            index.add(match.key)
    _add_known_token_mentions(ctx, mentions, people)
    mentions.sort(key=lambda m: m.start)
    last_seen: dict[str, int] = {}  # person key → position of its latest mention so far
    for position, mention in enumerate(mentions):
        words = _name_words(mention.text)
        candidates = index.containing(words)
        if len(candidates) > 1:
            profile = ctx.locate(mention.start)
            preferred = ctx.profile_person.get(profile.profile_id) if profile else None
            by_recency = sorted(candidates, key=lambda p: position - 1 - last_seen[p.key] if p.key in last_seen else 10**6)
            candidates = [next((p for p in candidates if p.key == preferred), by_recency[0])]
        if candidates:
            person = candidates[0]
        elif mention.source != "rule:person/known-token":
            key = name_key(mention.text)
            person = people.setdefault(key, Person(key=key, name=mention.text, first_start=mention.start))
            index.add(key)
        else:
            continue
        mention.key = person.key
        if mention.text != person.name:
            person.aliases.add(mention.text)
        for honorific in mention.honorifics:
            if honorific not in person.honorifics:
                person.honorifics.append(honorific)
        last_seen[person.key] = position
        for tok in range(mention.tok_start, mention.tok_end):
            ctx.mention_at[tok] = mention
    ctx.mentions = [m for m in mentions if m.key]
    used = {m.key for m in ctx.mentions}
    ctx.people = {k: p for k, p in people.items() if k in used}
    ctx.stop_tokens |= set(ctx.mention_at)


def _add_known_token_mentions(ctx: Context, mentions: list[PersonMention], people: dict[str, Person]) -> None:
    """Bare given names or surnames of people already named in full ("Novak recalled") are mentions too."""
    known = {token for p in people.values() for token in p.name.split() if len(token) > 2}
    known |= {m.text for m in mentions if len(m.text.split()) == 1 and m.source != MODEL and len(m.text) > 2}  # "Suharti, who ..."
    covered = {i for m in mentions for i in range(m.tok_start, m.tok_end)}
    for token in ctx.doc:
        if token.i in covered or token.text not in known or token.i in ctx.title_tokens or ctx.countries_at(token.i):
            continue
        if (ent := entity_at(ctx.doc, token.i)) is not None and ent.label_ in {"ORG", "GPE", "FAC", "NORP"} and len(ent) > 1:
            continue
        end = token.i + 1
        while end < len(ctx.doc) and ctx.doc[end].text in known and end not in covered:
            end += 1
        span = ctx.doc[token.i:end]
        mentions.append(PersonMention(span.start_char, span.end_char, span.text, "rule:person/known-token",
                                      honorifics_before(ctx, token.i), tok_start=span.start, tok_end=span.end))
        covered.update(range(span.start, span.end))


MALE_HONORIFICS = {"mr", "mr.", "u", "pak", "bapak", "sir", "dato", "dato'", "dato’", "datuk", "tan sri", "haji", "mister"}
FEMALE_HONORIFICS = {"ms", "ms.", "mrs", "mrs.", "miss", "madam", "mdm", "mdm.", "daw", "ibu", "dame", "datin", "hajah", "mme", "mme."}
PRONOUN_GENDER = {"he": "m", "him": "m", "his": "m", "himself": "m", "she": "f", "her": "f", "hers": "f", "herself": "f"}


def _gender(person: Person | None) -> str | None:
    """"m" or "f" when the person's honorifics say so ("Mr.", "Daw"), else None."""
    honorifics = {h.lower() for h in person.honorifics} if person else set()
    if honorifics & MALE_HONORIFICS:
        return "m"
    if honorifics & FEMALE_HONORIFICS:
        return "f"
    return None


FOCUS_SENTENCES = 4  # how far back (in sentences) a passed-over agent still yields to an earlier person
AGENT_REACH = 10  # "... recruited by the first Director, the late Mr. X. He then ...": "he" is not X


def focus_person(ctx: Context, char: int, pronoun: str | None = None) -> str | None:
    """Who "he", "she" or "the Rector" most likely means at ``char``.

    The section's person; else the person named last whose honorific does not contradict the pronoun
    ("Mr." for "she"). For a subject pronoun, a person named as "the late ..." is passed over for the one
    named before, if that one is at most a few sentences back.
    """
    profile = ctx.locate(char)
    if profile and profile.profile_id in ctx.profile_person:
        return ctx.profile_person[profile.profile_id]
    count = ctx.mentions_ending_by(char)
    before = ctx.mentions
    if count is None:
        before = [m for m in ctx.mentions if m.end <= char]
        count = len(before)
    if not count:
        return None
    wanted = PRONOUN_GENDER.get((pronoun or "").lower())
    agreeing = (before[i] for i in range(count - 1, -1, -1)
                if wanted is None or _gender(ctx.people.get(before[i].key)) in (None, wanted))
    first = next(agreeing, before[count - 1])
    if (pronoun or "").lower() in {"he", "she"}:
        direct = first if not _late(ctx, first) else next((m for m in agreeing if not _late(ctx, m)), None)
        if direct is not None and direct is not first and _sentences_between(ctx, direct.start, char) <= FOCUS_SENTENCES:
            return direct.key
    return first.key


def _late(ctx: Context, mention: PersonMention) -> bool:
    """The mention is introduced as "the late ...", shortly before it in its sentence."""
    doc = ctx.doc
    sent = sent_of(doc[mention.tok_start])
    before = doc[max(sent.start, mention.tok_start - AGENT_REACH):mention.tok_start]
    return "the late" in before.text.lower()


def _sentences_between(ctx: Context, start: int, end: int) -> int:
    """How many sentence boundaries lie between characters ``start`` and ``end``."""
    first = ctx.doc.char_span(start, start + 1, alignment_mode="expand")
    last = ctx.doc.char_span(max(start, end - 1), max(start, end - 1) + 1, alignment_mode="expand")
    if first is None or last is None:
        return 0
    starts = {sent_of(token).start for token in ctx.doc[first.start:last.end]}
    return len(starts) - 1
