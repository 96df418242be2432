"""Failure kinds found on real pages (docs/evaluation.md, "Real pages"), checked on invented sentences."""
import pyarrow.parquet as pq
import pytest

from pipeline.extract.context import Chain
from pipeline.extract.organisations import _portfolio_in_title
from pipeline.run import extract_corpus

SPLITS = [  # (title, preposition, what follows it) -> (title, organisation)
    (("Deputy Director-General", "of", "SRC for Fisheries Science"), ("Deputy Director-General for Fisheries Science", "SRC")),
    (("Minister", "for", "Marine Affairs of Indonesia"), ("Minister for Marine Affairs", "Indonesia")),
]
KEPT = [  # the portfolio stays the organisation, or the phrase is one organisation's name
    ("Minister", "of", "Health of Cambodia"),
    ("Director", "of", "the Regional Office for Southeast Asia"),
    ("Director", "of", "the Institute for Coastal Studies"),
    ("Officer", "for", "Programmes of the Delta Aquaculture Institute"),
    ("Deputy Director-General", "for", "the Socio-Cultural Community"),
]


@pytest.mark.parametrize("given, expected", SPLITS)
def test_portfolio_goes_into_the_title(given, expected):
    title, preposition, text = given
    new_title, org = _portfolio_in_title(title, preposition, Chain(text, 100, 100 + len(text)))
    assert (new_title, org.text) == expected
    assert text[org.start - 100:org.end - 100] == org.text


@pytest.mark.parametrize("title, preposition, text", KEPT)
def test_one_organisation_is_not_split(title, preposition, text):
    assert _portfolio_in_title(title, preposition, Chain(text, 0, len(text))) == (title, Chain(text, 0, len(text)))


PAGE = """<html><head><link rel="canonical" href="https://example.org/news/{slug}/"></head><body><article>
<h1>{title}</h1><p class="date">3 March 2025</p><p>{text}</p></article></body></html>"""
TABLES = ("articles", "people", "article_people", "roles", "countries", "mentions", "batches")


def extracted(tmp_path, sentence: str, slug: str, headline: str) -> dict[str, list[dict]]:
    """The rows of each table after extracting one page with ``sentence`` as its only paragraph."""
    return extracted_page(tmp_path, PAGE.format(slug=slug, title=headline, text=sentence))


def extracted_page(tmp_path, html: str) -> dict[str, list[dict]]:
    """The rows of each table after extracting the one page ``html``."""
    raw, out = tmp_path / "raw", tmp_path / "out"
    raw.mkdir()
    (raw / "page.html").write_text(html)
    assert not extract_corpus(raw, out, progress=False).failures
    return {name: pq.read_table(out / f"{name}.parquet").to_pylist() for name in TABLES}


def named_roles(tables: dict[str, list[dict]], *columns: str) -> list[tuple]:
    """(person's name, *columns) of every role."""
    people = {row["person_id"]: row["name"] for row in tables["people"]}
    return [(people[row["person_id"]], *(row[c] for c in columns)) for row in tables["roles"]]


SERVICE = [  # sentence -> the country of the person named in it
    ("Mr. Dara Sokun served for years at the Cambodia Ministry of Environment.", "KHM"),
    ("Ms. Farah Aziz is new here. Before that, she worked at Malaysia's Ministry of Agriculture.", "MYS"),
    ("Ms. Ana Cruz thanked Japan's Ministry of the Environment for its support.", None),
    ("Mr. Ken Ito is an adviser. He visited the Thailand Ministry of Health last year.", None),
    ("Ms. Htay Aung, who represents Myanmar on the board, spoke first.", "MMR"),
    ("Ms. Ana Cruz said the new team represents Thailand well.", None),
    ("Thailand's Minister of Commerce, Wanida Charoensuk, opened the fair.", "THA"),
    ("The minister met Ms. Ana Cruz of Thailand Rice Exporters Ltd. in the morning.", None),
    # the organisation is an acronym the text defined earlier as a country's mission
    ("The Mission of Norway to the Council (MNC) hosted the meeting. Chaired by Mr. Okada Kenji, Counsellor "
     "of MNC, it began at nine.", "NOR"),
    ("The Harbour Liaison Office of Norway (HLO) hosted the meeting. Ms. Ana Cruz, Director of HLO, spoke.", None),
    # the country after the initials that end the organisation: that country's own ministry
    ("Mr. Ken Ito, Director of the Asia Department, MOFA Norway, spoke.", "NOR"),
    ("Ms. Ana Cruz, Director of the ASEAN Japan Centre, spoke.", None),
]


@pytest.mark.parametrize("sentence, iso3", SERVICE)
def test_country_of_the_government_a_person_served(tmp_path, sentence, iso3):
    tables = extracted(tmp_path, sentence, "service", "Officers Named")
    countries = {row["country_iso3"] for row in tables["countries"]}
    assert countries == ({iso3} if iso3 else set())


NAMES = [  # sentence -> the person's name as printed (issue 8, item 4: abbreviated given names)
    ("The study was presented by Ma. Cristina Dela Cruz Jr. of the Department of Education.", "Ma. Cristina Dela Cruz Jr."),
    ("Mohd. Faizal bin Hamid, a fisheries officer, led the survey.", "Mohd. Faizal bin Hamid"),
]


@pytest.mark.parametrize("sentence, name", NAMES)
def test_abbreviated_given_name_stays_in_the_name(tmp_path, sentence, name):
    tables = extracted(tmp_path, sentence, "names", "Survey Presented")
    assert [row["name"] for row in tables["article_people"]] == [name]


ROLES = [  # sentence -> (title, organisation) of its one person
    ("The message was delivered by SRC Director-General Dr. Wirat Suksawat at the opening.", ("Director-General", "SRC")),
    ("In her remarks, Haruka Ombara, RFT Director, thanked the partners.", ("Director", "RFT")),
    ("The trust welcomed the visitors from the Delta Institute: Field Coordinator Ms. Sari Utami.", ("Field Coordinator", "Delta Institute")),
    ("Mr. Aditya Kusumo, Minister for Marine Affairs of Indonesia, spoke.", ("Minister for Marine Affairs", "Indonesia")),
    # an acronym spelled out in brackets, then the holder: "a talk by Title of ACR (Full Name), NAME, who ..."
    ("The alumni enjoyed a talk by Executive Director of KDN (Kinabalu Development Network for Rivers), TAN Mei Ling, "
     "who works with farmers.", ("Executive Director", "KDN (Kinabalu Development Network for Rivers)")),
]


@pytest.mark.parametrize("sentence, expected", ROLES)
def test_title_and_organisation(tmp_path, sentence, expected):
    tables = extracted(tmp_path, sentence, "roles", "Meeting Opened")
    assert [(row["title"], row["org"]) for row in tables["roles"]] == [expected]


PARSED = [  # sentence -> (person, title, the end of the role's source): ties only the dependency parse sees
    ("Mr. Pedro Cruz, together with Ms. Ana Lim and two other fishermen from the village, later joined the Bay Trust "
     "as a Coordinator.", ("Pedro Cruz", "Coordinator", "+dep:holder-as")),
]


@pytest.mark.parametrize("sentence, expected", PARSED)
def test_the_parse_ties_a_title_to_the_subject_of_its_verb(tmp_path, sentence, expected):
    tables = extracted(tmp_path, sentence, "parsed", "Fishermen Join")
    person, title, source_end = expected
    roles = named_roles(tables, "title", "source")
    assert [(name, t) for name, t, _ in roles] == [(person, title)]
    assert roles[0][2].endswith(source_end)


CAPTIONS = [  # a photo caption -> (title, status, end): "(left)" says where someone stands, not that they left
    ("Ms. Dara Lim (left), Programme Manager at the Blue Rivers Initiative, talks with farmers, 12 March 2022.",
     ("Programme Manager", "current", None)),
    ("Mr. Ben Soto left the Delta Agency in 2020 as Director.", ("Director", "former", "2020")),
]


@pytest.mark.parametrize("sentence, expected", CAPTIONS)
def test_a_position_in_a_photo_is_not_leaving_a_post(tmp_path, sentence, expected):
    tables = extracted(tmp_path, sentence, "captions", "Farmers Visited")
    assert [(row["title"], row["status"], row["end"]) for row in tables["roles"]] == [expected]


HOLDERS = [  # sentence -> the (person, title, organisation) rows: a title, what it is of, a comma, then the holder
    ("At the summit in 2007, the former Prime Minister of Norway, BRANDVOLD Kari announced a youth exchange.",
     [("BRANDVOLD Kari", "Prime Minister", "Norway")]),
    ("The Director, Tomas Reyes said the plan was ready.", [("Tomas Reyes", "Director", None)]),
    # the title is the object of a preposition: the name after it is someone else
    ("Prior to her meeting with the Director of the Bay Trust, Ms. Lina Santos also visited the port.", []),
]


@pytest.mark.parametrize("sentence, expected", HOLDERS)
def test_a_title_then_its_holder_who_acts(tmp_path, sentence, expected):
    tables = extracted(tmp_path, sentence, "holders", "Exchange Announced")
    assert named_roles(tables, "title", "org") == expected


GROUPS = [  # sentence -> the (person, title, organisation) rows: a plural title names each person of the list after it
    ("Three BRT fellows from the region, Ms. Ana Lim of Delta University from Viet Nam, Mr. Ben Cruz of Bay College "
     "from the Philippines, and Ms. Carla Diaz of Reef Institute from Indonesia, shared their experiences.",
     [("Ana Lim", "BRT fellow", "Delta University"), ("Ben Cruz", "BRT fellow", "Bay College"),
      ("Carla Diaz", "BRT fellow", "Reef Institute")]),
    ("The two new Programme Officers, Mai Tran and Jonas Berg, organised the session.",
     [("Mai Tran", "Programme Officer", None), ("Jonas Berg", "Programme Officer", None)]),
    ("After the oath, Deputy Directors-General (DDG) Mai Tran and Jonas Berg took office.",
     [("Mai Tran", "Deputy Director-General", None), ("Jonas Berg", "Deputy Director-General", None)]),
    # an acronym before the plural is the organisation of those without one of their own, as in the singular
    ("Two HLO Programme Officers, Mai Tran and Jonas Berg, organised the session.",
     [("Mai Tran", "Programme Officer", "HLO"), ("Jonas Berg", "Programme Officer", "HLO")]),
    # a member "of" a place has no organisation there, and the list goes on
    ("The research fellows, Ms. Ana Lim of Delta University, Mr. Ben Cruz of Bay Town, and Ms. Carla Diaz of Reef "
     "Institute, met.", [("Ana Lim", "research fellow", "Delta University"), ("Ben Cruz", "research fellow", None),
                         ("Carla Diaz", "research fellow", "Reef Institute")]),
    # the organisation printed after the plural is that of each person who names none of their own
    ("The two Programme Officers of the Delta Trust, Ms. Mai Tran and Mr. Jonas Berg, organised the session.",
     [("Mai Tran", "Programme Officer", "Delta Trust"), ("Jonas Berg", "Programme Officer", "Delta Trust")]),
    # "fellow" alone is no title in the singular, nor in the plural
    ("The fellows, Ms. Ana Lim and Mr. Ben Cruz, met.", []),
    # a fronted clause: the names after its comma are the subject of what follows, not the officers
    ("According to the two Programme Officers, Mai Tran and Jonas Berg will lead the next round.", []),
    ("After thanking the Directors, Mai Tran and Jonas Berg closed the meeting.", []),
    # the number says three, the list has two: not this list
    ("Three Programme Officers, Mai Tran and Jonas Berg, organised the session.", []),
    # a verb between the plural and the names: they are not the officers
    ("The officers thanked Mai Tran and Jonas Berg for the session.", []),
]


@pytest.mark.parametrize("sentence, expected", GROUPS)
def test_a_plural_title_names_each_person_of_its_list(tmp_path, sentence, expected):
    tables = extracted(tmp_path, sentence, "groups", "Fellows Met")
    assert sorted(named_roles(tables, "title", "org")) == sorted(expected)


TITLED_LISTS = [  # sentence -> (person, title, organisation) rows found by rule:person/titled-list
    # a one-word name the model misses, after a title, in a list whose item before it is a title + person
    ("The Director welcomed the delegates from HFT: DDG Lindqvist, Assistant Project Manager Okafor, and Project "
     "Administrative Assistant Wongsakul.", [("Wongsakul", "Project Administrative Assistant", "HFT")]),
    # inside the list, a word after a title may be a portfolio: only the list's last item is read this way
    ("The delegation met Governor Ana Lim, Commissioner Trade, and Secretary Kestrel.", []),
    # the item before it is a place, not a title + person: no list of titled people
    ("Guests came from Harbour Town, and Project Administrative Assistant Wongsakul.", []),
]


@pytest.mark.parametrize("sentence, expected", TITLED_LISTS)
def test_a_titled_name_in_a_list_of_titled_people_is_a_person(tmp_path, sentence, expected):
    tables = extracted(tmp_path, sentence, "titled-list", "Delegates Visit")
    assert set(expected) <= set(named_roles(tables, "title", "org"))
    if not expected:
        assert not [row for row in tables["mentions"] if row["source"] == "rule:person/titled-list"]
        assert "Trade" not in {row["name"] for row in tables["people"]}


COORDINATED = [  # sentence -> the titles of its one person
    # the first title's bracketed abbreviation stands between the two coordinated titles
    ("Dr. Jonas Berg, Deputy Director-General (DDG) and Programme Manager, updated the team.",
     {"Deputy Director-General", "Programme Manager"}),
    ("Dr. Jonas Berg, Deputy Director-General and Programme Manager, updated the team.",
     {"Deputy Director-General", "Programme Manager"}),
    # a bracketed word printed with the first title's organisation
    ("Dr. Jonas Berg, Director of the Harbour Trust (Singapore) and the Secretary of the Reef Council, opened the forum.",
     {"Director", "Secretary"}),
]


@pytest.mark.parametrize("sentence, titles", COORDINATED)
def test_coordinated_titles_after_a_bracketed_abbreviation(tmp_path, sentence, titles):
    tables = extracted(tmp_path, sentence, "coordinated", "Team Updated")
    assert {title for _, title in named_roles(tables, "title")} == titles


CV_LINES = [  # sentence -> (person, title, organisation, start) of its roles
    # a title written before its holder's name with a comma, the name followed by a bracket; the portfolio's
    # acronym spelled out where the text spells it out (a heading); a labelled start date in the bracket
    ("The Coastal Resource Management plan guides the council. Click here for CV of DDG of SRC for CRM, H.E. Dr. "
     "Lena Okoro (date of commencement: 1 March 2022).",
     [("Lena Okoro", "Deputy Director-General for Coastal Resource Management", "SRC", "2022-03-01")]),
    # no words in the text spell the acronym out: it stays as printed
    ("Click here for CV of DDG of SRC for CRM, H.E. Dr. Lena Okoro (date of commencement: 1 March 2022).",
     [("Lena Okoro", "Deputy Director-General for CRM", "SRC", "2022-03-01")]),
    # the spelled-out title is longer than what is printed, at the very end of the text: the page is still written
    ("The Coastal Resource Management plan guides the council. Click here for CV of DDG of SRC for CRM, H.E. Dr. "
     "Lena Okoro.", [("Lena Okoro", "Deputy Director-General for Coastal Resource Management", "SRC", None)]),
    # the label belongs to the nearest title before it, not to every title of the sentence
    ("Ms. Ana Lim, Director of the Delta Trust, and Dr. Lena Okoro, Chair of the Reef Council (date of commencement: "
     "1 March 2022), spoke.", [("Ana Lim", "Director", "Delta Trust", None), ("Lena Okoro", "Chair", "Reef Council", "2022-03-01")]),
    # a date in the bracket without a start label is no start
    ("Click here for CV of DDG of SRC for CRM, H.E. Dr. Lena Okoro (updated: 1 March 2022).",
     [("Lena Okoro", "Deputy Director-General for CRM", "SRC", None)]),
]


@pytest.mark.parametrize("sentence, expected", CV_LINES)
def test_a_cv_line_names_the_holder_the_portfolio_and_the_start(tmp_path, sentence, expected):
    tables = extracted(tmp_path, sentence, "cv-lines", "Deputy Directors-General")
    assert sorted(named_roles(tables, "title", "org", "start")) == sorted(expected)


EVENT_PARTS = [  # sentence -> (person, title) rows: a part played at one event is no post
    ("Dr. Jonas Berg, Director of the Delta Trust, was the facilitator of the joint session.",
     [("Jonas Berg", "Director")]),
    ("Dr. Jonas Berg was the Chair of the meeting on Monday.", []),
    # an event noun inside a longer phrase names a body, not an event
    ("Ms. Ana Lim, Director of the training institute, opened the new wing.", [("Ana Lim", "Director")]),
    ("Mr. Ben Cruz, Chair of the panel of experts, spoke.", [("Ben Cruz", "Chair")]),
    # a capitalised body after the title is an organisation, not an event
    ("Ms. Ana Lim, Chair of the Training Board, opened the discussion.", [("Ana Lim", "Chair")]),
]


@pytest.mark.parametrize("sentence, expected", EVENT_PARTS)
def test_a_part_at_an_event_is_not_a_role(tmp_path, sentence, expected):
    tables = extracted(tmp_path, sentence, "event-parts", "Session Held")
    assert named_roles(tables, "title") == expected


CARD = """<html><head><link rel="canonical" href="https://example.org/news/card/"></head><body><article>
<h1>Fellows Look Back</h1><p class="date">3 March 2025</p><p>Two fellows told us about their years here.</p>
<h2>First Fellow</h2><p>Name: Ana Lim<br>Period as Visiting Fellow: 2021/10/4 – 2023/9/30</p>
<h2>Second Fellow</h2><p>Name: Ben Cruz<br>Term as a Visiting Fellow: 2024/4/1 – 2026/3/31</p>
</article></body></html>"""


def test_a_card_period_as_a_title_is_that_post_with_its_dates(tmp_path):
    tables = extracted_page(tmp_path, CARD)
    assert sorted(named_roles(tables, "title", "status", "start", "end")) == [
        ("Ana Lim", "Visiting Fellow", "former", "2021-10-04", "2023-09-30"),  # over before the article's date
        ("Ben Cruz", "Visiting Fellow", "current", "2024-04-01", "2026-03-31")]
    assert tables["batches"] == []  # a post's period, not a cohort
    text = tables["articles"][0]["text"]
    evidence = {name: (text[row["char_start"]:row["char_end"]], row["source"])
                for (name,), row in zip(named_roles(tables), tables["roles"])}
    assert evidence == {  # from the title to the end of the dates
        "Ana Lim": ("Visiting Fellow: 2021/10/4 – 2023/9/30", "rule:role/card-tenure"),
        "Ben Cruz": ("Visiting Fellow: 2024/4/1 – 2026/3/31", "rule:role/card-tenure")}


PARTICIPATION = [  # sentence -> (person, programme) pairs of the batches table
    ("Mai Tran from Laos and Ana Lim from Brunei are the participants in the Harbour Leaders Exchange Programme.",
     {("Mai Tran", "Harbour Leaders Exchange Programme"), ("Ana Lim", "Harbour Leaders Exchange Programme")}),
    ("Ms. Lena Okoro, one of the alumni of the Harbour Leaders Exchange Programme, spoke first.",
     {("Lena Okoro", "Harbour Leaders Exchange Programme")}),
    # the speaker who addresses the participants is not one of them
    ("President Jonas Berg encouraged the participants of the Harbour Leaders Exchange Programme to stay in touch.", set()),
    ("Ms. Ilse Varga thanked the alumni of the Harbour Leaders Exchange Programme for their work.", set()),
]


@pytest.mark.parametrize("sentence, expected", PARTICIPATION)
def test_a_participant_is_said_to_be_one(tmp_path, sentence, expected):
    tables = extracted(tmp_path, sentence, "harbour-leaders", "Harbour Leaders Meet Again")
    people = {row["person_id"]: row["name"] for row in tables["people"]}
    assert {(people[row["person_id"]], row["programme"]) for row in tables["batches"] if row["person_id"]} == expected


PROGRAMME_CARD = """<html><head><link rel="canonical" href="https://example.org/news/scholars/"></head><body><article>
<h1>Scholars Look Back</h1><p class="date">3 March 2025</p><p>Two scholars told us about their years here.</p>
<h2>First Scholar</h2><p>Name: Mai Tran<br>Training course: Coastal Resource Management Programme<br>
Period as RFT scholar: 2021/10/4 – 2023/9/30</p>
<h2>Second Scholar</h2><p>Name: Tomas Reyes<br>Course of study: Marine Biology<br>Degree: Master's</p>
</article></body></html>"""


def test_a_card_field_naming_a_programme_is_the_persons_programme_with_the_cards_years(tmp_path):
    tables = extracted_page(tmp_path, PROGRAMME_CARD)
    people = {row["person_id"]: row["name"] for row in tables["people"]}
    text = tables["articles"][0]["text"]
    assert [(people.get(row["person_id"]), row["programme"], row["start_year"], row["end_year"], row["source"],
             text[row["char_start"]:row["char_end"]]) for row in tables["batches"]] == [
        ("Mai Tran", "Coastal Resource Management Programme", 2021, 2023, "rule:programme/card",
         "Coastal Resource Management Programme")]  # a course of study is a subject, not a programme
