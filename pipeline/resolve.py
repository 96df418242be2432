"""resolve: one person across articles, beyond the name hash.

Every article names a person under a per-article ``person_id`` (the hash of the order-free folded name, as
``normalize.person_id`` makes it). This step decides which of those (person_id, article_id) *records* are
one person, and gives each cluster a ``canonical_id``. It follows the frame of record-linkage tools such as
splink and dedupe, in plain Python over plain records:

1. **Blocking**: only records that share a blocking key are compared. A key is one full name word plus the
   first letter of another word of the name ("tanaka+h"), so "H. Tanaka" meets "Hiroshi Tanaka" and
   "Nguyen An" meets "Nguyen Van An", but the thousands of people sharing one common surname never meet
   all at once. Every pair that *could* merge shares a key (a merge needs a shared full word and one more
   matched word), so blocking loses no link.
2. **Pairwise comparison**: the names (same, a variant: a missing middle name or patronym, a spelling form
   such as "Ma." for "Maria"; initials; too thin; or in conflict) and the evidence each article gives
   (country, organisation, programme and batch), each an outcome with a weight, added up as in the
   Fellegi-Sunter model splink estimates. The weights here are set by hand, not estimated: the corpus has
   few records per name and no labelled pairs to train on (splink's EM, dedupe's active learning), and a
   hand-set scale whose reasons are written down is easier to check than estimated m/u probabilities.
3. **Threshold**: a pair links when its score reaches ``MATCH_THRESHOLD``.
4. **Clustering**: linked pairs are merged strongest first, and two clusters never merge when any two of
   their records are in conflict (names that contradict, countries that do not overlap, the same programme
   with another batch, or the same article), so "Siti Aminah" cannot chain two different "Siti Aminah
   binti ..." into one.

The result depends only on the set of records, never on their order: records and pairs are sorted before
anything is decided, and a cluster's ``canonical_id`` is the person_id most of its records carry.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from itertools import combinations

from .normalize import fold, org_similar, stable_id
from .patterns import lexicon


@dataclass(frozen=True)
class PersonRecord:
    """A person as one article names them, with the evidence that article gives about them."""

    person_id: str
    article_id: str
    name: str
    countries: frozenset[str] = frozenset()
    orgs: frozenset[str] = frozenset()
    programmes: frozenset[tuple[str, int | None]] = frozenset()  # (programme_key, batch or None)

    @property
    def key(self) -> tuple[str, str]:
        return self.person_id, self.article_id


# ---------------------------------------------------------------- names


class NameLevel(Enum):
    """How two names compare, from the strongest agreement down to a contradiction."""

    SAME = "same"  # the same words in any order: "NGUYEN Van An" and "Van An Nguyen"
    VARIANT = "variant"  # a missing middle name or patronym, or a spelling form: "Ma. Cristina Reyes"
    INITIALS = "initials"  # a word given as its initial: "H. Tanaka" and "Hiroshi Tanaka"
    WEAK = "weak"  # no contradiction, but too little in common: "Thida" and "Thida Win"
    CONFLICT = "conflict"  # a word on each side that the other does not have: "Nguyen Van An" and "Nguyen Van Anh"


MIN_VARIANT_WORDS = 2  # full words a variant must share: one shared word is a surname or a given name, not a person
MIN_INITIALS_WORDS = 1  # full words a name with initials must share (the rest matched by their initials)


@dataclass(frozen=True)
class ParsedName:
    """A folded name split into its own words, a patronym (after "bin", "binti", ...) and a suffix ("Jr")."""

    words: tuple[str, ...]  # canonical forms ("ma" → "maria"), in printed order
    spelled: tuple[str, ...]  # the same words as folded, before canonical forms
    patronym: tuple[str, ...]
    suffix: str | None


@lru_cache(maxsize=1)
def _name_lexicon() -> tuple[dict[str, str], frozenset[str], frozenset[str]]:
    """(spelling form → canonical form, patronymic markers, suffixes), folded, from the lexicon."""
    words = lexicon()
    forms = {fold(form): fold(group[0]) for group in words["given_name_forms"] for form in group}
    return forms, frozenset(map(fold, words["patronymic_markers"])), frozenset(map(fold, words["name_suffixes"]))


@lru_cache(maxsize=1 << 14)
def parse_name(name: str) -> ParsedName:
    """Split a printed name into words, patronym and suffix (case, accents and punctuation folded)."""
    forms, markers, suffixes = _name_lexicon()
    words = fold(name).split()
    suffix = words.pop() if len(words) > 1 and words[-1] in suffixes else None
    patronym: tuple[str, ...] = ()
    marker = next((i for i, word in enumerate(words) if word in markers and 0 < i < len(words) - 1), None)
    if marker is not None:
        words, patronym = words[:marker], tuple(forms.get(w, w) for w in words[marker + 1:])
    return ParsedName(tuple(forms.get(w, w) for w in words), tuple(words), patronym, suffix)


def _is_initial(word: str) -> bool:
    return len(word) == 1


def compare_names(a: str, b: str) -> NameLevel:
    """How two printed names compare, whatever their word order (SURNAME Given or Given Surname)."""
    pa_, pb = parse_name(a), parse_name(b)
    if pa_.suffix and pb.suffix and pa_.suffix != pb.suffix:
        return NameLevel.CONFLICT  # "Jr" and "Sr" are two people
    if pa_.patronym and pb.patronym and sorted(pa_.patronym) != sorted(pb.patronym):
        return NameLevel.CONFLICT  # daughters of two fathers
    if sorted(pa_.spelled) == sorted(pb.spelled) and pa_.patronym == pb.patronym and pa_.suffix == pb.suffix:
        return NameLevel.SAME
    left, right = list(pa_.words), list(pb.words)
    full = 0
    for word in [w for w in left if not _is_initial(w)]:  # full words first, then initials
        if word in right:
            left.remove(word)
            right.remove(word)
            full += 1
    initials = 0
    for word in list(left):
        match = next((w for w in right if w[0] == word[0] and (_is_initial(w) or _is_initial(word))), None)
        if match is not None:
            left.remove(word)
            right.remove(match)
            initials += 1
    if left and right:
        return NameLevel.CONFLICT
    if initials:
        return NameLevel.INITIALS if full >= MIN_INITIALS_WORDS else NameLevel.WEAK
    return NameLevel.VARIANT if full >= MIN_VARIANT_WORDS else NameLevel.WEAK


def blocking_keys(name: str) -> set[str]:
    """Keys a name is blocked under: each full word with the first letter of each other word ("tanaka+h"),
    and the whole order-free name, so the same name always meets itself (a one-word name, or one of initials)."""
    words = parse_name(name).words
    return {" ".join(sorted(words))} | {f"{word}+{other[0]}" for i, word in enumerate(words) if not _is_initial(word)
                                       for j, other in enumerate(words) if i != j}


# ---------------------------------------------------------------- pairs

# Weights of each comparison outcome, on one additive scale (the log-odds scale splink's match weights use,
# set by hand). The scale is read against MATCH_THRESHOLD: the same name alone links, a name variant needs
# one agreeing fact, initials need two, a thin name never links, and one conflicting fact outweighs a name.
NAME_WEIGHTS = {NameLevel.SAME: 4, NameLevel.VARIANT: 2, NameLevel.INITIALS: 1, NameLevel.WEAK: -4, NameLevel.CONFLICT: -8}
COUNTRY_AGREES = 2  # a shared country: common (ten ASEAN countries), so it corroborates but does not decide
COUNTRY_CONFLICTS = -6  # no country in common: beats even the same name ("the same name from two countries")
ORG_AGREES = 2  # a shared organisation (as careers match organisations); a different one is no conflict: people move
PROGRAMME_AGREES = 2  # a shared programme
BATCH_CONFLICTS = -6  # the same programme, another batch number: two alumni, not one
MATCH_THRESHOLD = 4  # the score at which a pair is one person: the same name with no conflicting fact


@dataclass(frozen=True)
class Comparison:
    """One pair compared: its name level, the facts that agreed, whether anything conflicts, its score."""

    name: NameLevel
    agreed: tuple[str, ...]  # "country", "organisation", "programme"
    conflicts: tuple[str, ...]  # "name", "country", "batch", "same article"
    score: int

    @property
    def links(self) -> bool:
        """Reaches the threshold with nothing in conflict (a conflict is also a veto, as in clustering)."""
        return self.score >= MATCH_THRESHOLD and not self.conflicts


def compare(a: PersonRecord, b: PersonRecord) -> Comparison:
    """Compare two records: name level and evidence, each weighted, summed into the pair's score."""
    level = compare_names(a.name, b.name)
    score = NAME_WEIGHTS[level]
    agreed, conflicts = [], ["name"] if level is NameLevel.CONFLICT else []
    if a.article_id == b.article_id:
        conflicts.append("same article")  # one article names each person under one key
    if a.countries and b.countries:
        if a.countries & b.countries:
            agreed.append("country")
            score += COUNTRY_AGREES
        else:
            conflicts.append("country")
            score += COUNTRY_CONFLICTS
    if any(fold(x) == fold(y) or org_similar(x, y) for x in a.orgs for y in b.orgs):
        agreed.append("organisation")
        score += ORG_AGREES
    batches_a, batches_b = _batches(a), _batches(b)
    shared = batches_a.keys() & batches_b.keys()
    if shared:
        agreed.append("programme")
        score += PROGRAMME_AGREES
        if any(batches_a[k] and batches_b[k] and not batches_a[k] & batches_b[k] for k in shared):
            conflicts.append("batch")
            score += BATCH_CONFLICTS
    return Comparison(level, tuple(agreed), tuple(conflicts), score)


def _batches(record: PersonRecord) -> dict[str, set[int]]:
    by_programme: dict[str, set[int]] = {}
    for programme, batch in record.programmes:
        by_programme.setdefault(programme, set()).update(() if batch is None else (batch,))
    return by_programme


def candidate_pairs(records: list[PersonRecord]) -> list[tuple[int, int]]:
    """Index pairs (i < j) of the records that share a blocking key."""
    blocks: dict[str, list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        for key in blocking_keys(record.name):
            blocks[key].append(index)
    return sorted({pair for members in blocks.values() for pair in combinations(members, 2)})


# ---------------------------------------------------------------- clusters


@dataclass(frozen=True)
class Link:
    """Where one record landed: its cluster's canonical id, and its strongest link inside the cluster."""

    canonical_id: str
    score: int | None  # None: the record is alone
    matched_on: tuple[str, ...]  # the name level and the facts that agreed on that strongest link


def resolve(records: list[PersonRecord]) -> dict[tuple[str, str], Link]:
    """Cluster the records into people; (person_id, article_id) → its ``Link``. Order-independent."""
    records = sorted(set(records), key=lambda r: r.key)
    scored = [(compare(records[i], records[j]), i, j) for i, j in candidate_pairs(records)]
    links = sorted(((c, i, j) for c, i, j in scored if c.links), key=lambda t: (-t[0].score, t[1], t[2]))
    parent = list(range(len(records)))
    members = {i: [i] for i in range(len(records))}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    best: dict[int, Comparison] = {}
    for comparison, i, j in links:
        ri, rj = root(i), root(j)
        if ri != rj:
            if any(compare(records[x], records[y]).conflicts for x in members[ri] for y in members[rj]):
                continue
            keep, gone = min(ri, rj), max(ri, rj)
            parent[gone] = keep
            members[keep] += members.pop(gone)
        for k in (i, j):  # links are taken strongest first: the first one a record is part of is its best
            best.setdefault(k, comparison)
    clusters = sorted((sorted(group) for group in members.values()), key=lambda g: g[0])
    ids = _canonical_ids([[records[i] for i in group] for group in clusters])
    result = {}
    for group, canonical in zip(clusters, ids):
        for i in group:
            comparison = best.get(i) if len(group) > 1 else None
            result[records[i].key] = Link(canonical, comparison.score if comparison else None,
                                          (comparison.name.value, *comparison.agreed) if comparison else ())
    return result


def _canonical_ids(clusters: list[list[PersonRecord]]) -> list[str]:
    """Each cluster's id: the person_id most of its records carry (the smallest on a tie), so a person named
    one way keeps the id ``people`` gives that name. When one person_id is two people (the same name with
    conflicting facts), the cluster with more records under it (then the earliest article) keeps it, and the
    others get an id hashed from it and their earliest article, the same on every run."""
    wanted = []
    for cluster in clusters:
        counts = Counter(r.person_id for r in cluster)
        wanted.append(min(counts, key=lambda pid: (-counts[pid], pid)))
    claims: dict[str, list[int]] = defaultdict(list)
    for index, pid in enumerate(wanted):
        claims[pid].append(index)
    ids = list(wanted)
    for pid, indexes in claims.items():
        ranked = sorted((_claim(clusters[index], pid), index) for index in indexes)
        for (_, earliest), index in ranked[1:]:
            ids[index] = stable_id("per", pid, earliest)
    return ids


def _claim(cluster: list[PersonRecord], pid: str) -> tuple[int, str]:
    """How strongly a cluster claims a person_id: more records under it first, then the earliest article."""
    own = [r.article_id for r in cluster if r.person_id == pid]
    return -len(own), min(own)


# ---------------------------------------------------------------- rows

LINK_COLUMNS = {"article_people": ("person_id", "article_id", "name"),
                "countries": ("person_id", "article_id", "country_iso3"),
                "roles": ("person_id", "article_id", "org"),
                "batches": ("person_id", "article_id", "programme_key", "batch")}  # what resolution reads


def person_records(article_people: list[dict], countries: list[dict], roles: list[dict],
                   batches: list[dict]) -> list[PersonRecord]:
    """One record per ``article_people`` row, with the countries, organisations and programmes that article
    gives the person (rows need only the ``LINK_COLUMNS``)."""
    evidence: dict[tuple[str, str], dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for row in countries:
        evidence[(row["person_id"], row["article_id"])]["countries"].add(row["country_iso3"])
    for row in roles:
        if row["org"]:
            evidence[(row["person_id"], row["article_id"])]["orgs"].add(row["org"])
    for row in batches:
        if row["person_id"] and row["programme_key"]:
            evidence[(row["person_id"], row["article_id"])]["programmes"].add((row["programme_key"], row["batch"]))
    records = []
    for row in article_people:
        facts = evidence.get((row["person_id"], row["article_id"]), {})
        records.append(PersonRecord(row["person_id"], row["article_id"], row["name"],
                                    frozenset(facts.get("countries", ())), frozenset(facts.get("orgs", ())),
                                    frozenset(facts.get("programmes", ()))))
    return records


def link_rows(article_people: list[dict], countries: list[dict], roles: list[dict], batches: list[dict]) -> list[dict]:
    """The ``person_links`` table: one row per ``article_people`` row with the person it resolves to."""
    records = person_records(article_people, countries, roles, batches)
    links = resolve(records)
    return [{"person_id": r.person_id, "article_id": r.article_id, "canonical_id": links[r.key].canonical_id,
             "name": r.name, "score": links[r.key].score, "matched_on": list(links[r.key].matched_on)}
            for r in sorted(records, key=lambda r: r.key)]
