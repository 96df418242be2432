"""Tests of pipeline.parse: the bundled sample page, small generic pages written here, and bad input.

Expectations for the sample page were read off its HTML (raw/…attachment-programme.html), not off the
parser's output.
"""
from __future__ import annotations

import datetime as dt
import gzip
import time
from pathlib import Path

import pytest

from pipeline.normalize import stable_id
from pipeline.parse import reading as parse_reading
from pipeline.parse import ParseError, RawPage, parse_page
from pipeline.rawfolder import is_page_name

SAMPLE = Path(__file__).resolve().parents[1] / "raw" / "jaif-asean-deepens-integration-through-the-attachment-programme.html"
MAIN_URL = "https://jaif.asean.org/beneficiaries_voice/asean-deepens-integration-through-the-attachment-programme/"
RELATED = [  # (url slug, title, date shown in the related block)
    ("enhancing-the-role-of-youth-in-peacebuilding", "Enhancing the Role of Youth in Peacebuilding", dt.date(2025, 3, 12)),
    ("mainstreaming-the-rights-of-persons-with-disabilities-with-gender-perspectives-in-asean",
     "Mainstreaming the Rights of Persons with Disabilities with Gender Perspectives in ASEAN", dt.date(2022, 1, 18)),
    ("narrowing-the-gap-through-strong-network-and-mutual-trust-among-universities-in-the-mekong-region",
     "Narrowing the Gap through Strong Network and Mutual Trust among Universities in the Mekong Region",
     dt.date(2021, 7, 29)),
]


@pytest.fixture(scope="module")
def sample():
    return parse_page(RawPage(SAMPLE))


def block_texts(article, kind=None):
    return [article.text[b.start:b.end] for b in article.blocks if kind is None or b.kind == kind]


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


# ---------------------------------------------------------------- the sample page


def test_sample_yields_main_and_three_related_articles(sample):
    assert len(sample) == 4
    main, *related = sample
    assert main.parent_article_id is None
    assert main.url == MAIN_URL
    assert main.article_id == stable_id("art", MAIN_URL)
    assert [r.parent_article_id for r in related] == [main.article_id] * 3
    assert len({a.article_id for a in sample}) == 4


def test_sample_related_articles(sample):
    for article, (slug, title, published) in zip(sample[1:], RELATED):
        assert article.url == f"https://jaif.asean.org/beneficiaries_voice/{slug}/"
        assert article.title == title
        assert article.published == published
        assert article.text.startswith(title)
        assert article.text.count(title) == 1  # the <h5> repeat of the title is dropped


def test_sample_main_metadata(sample):
    main = sample[0]
    assert main.title == "ASEAN Deepens Integration Through the Attachment Programme"
    assert main.published == dt.date(2019, 9, 29)
    assert main.byline == "JAIF Management Team"
    assert main.sectors == ["IAI"]
    assert main.funding_framework == "Original JAIF"
    assert main.source_path == str(SAMPLE)


def test_sample_text_is_clean(sample):
    main = sample[0]
    for article in sample:
        assert ".jpg" not in article.text
        assert "©" not in article.text
    assert "officials who graduated" in main.text  # footnote marker <sup>1</sup> removed
    assert "officials1" not in main.text
    assert "Attachment Programme, she took" in main.text  # "Atta" / "chment" glued back
    assert "Atta chment" not in main.text and "Atta\n" not in main.text
    assert main.text.count(main.title) == 1  # headline once, though the page repeats it in an <h2>
    assert "By JAIF Management Team" not in main.text
    for label in ("Sectors", "Funding Framework", "Original JAIF", "Related Beneficiaries"):
        assert label not in main.text
    # related teasers stay out of the parent's text
    assert "Youth are not only the leaders" not in main.text
    assert "Youth are not only the leaders" in sample[1].text


def test_sample_photo_credits_are_kept_apart(sample):
    main = sample[0]
    assert main.photo_credits == ["© JAIF Management Team", "© Hoang Quoc Trung", "© Chhy Ratha",
                                  "© Institute of Diplomacy and Foreign Relations"]
    assert sample[1].photo_credits == ["© The ASEAN Institute for Peace and Reconciliation (ASEAN-IPR)"]


def test_sample_blocks(sample):
    main = sample[0]
    kinds = [b.kind for b in main.blocks]
    assert kinds[:2] == ["title", "dateline"]
    assert block_texts(main, "dateline") == ["29 September 2019"]
    captions = block_texts(main, "caption")
    assert len(captions) == 4
    assert captions[1].startswith("Mr. Hoang Quoc Trung (first from left)")  # file name prefix removed
    assert captions[2] == "Ms. Chhy Ratha during her stay at the ASEAN Secretariat as an Attachment Officer"
    assert block_texts(main, "footnote") == [
        "Follows a chronological order based on the batch (old to new) of the respective Attachment Officer"]
    headings = block_texts(main, "heading")
    assert "Hoang Quoc Trung, Viet Nam, Attachment Programme for Junior Diplomats (13th Batch, 2014-2015)" in headings
    assert len(headings) == 4


@pytest.mark.parametrize("index", range(4))
def test_block_offsets_tile_the_text(sample, index):
    article = sample[index]
    assert article.blocks[0].start == 0
    assert article.blocks[-1].end == len(article.text)
    for before, after in zip(article.blocks, article.blocks[1:]):
        assert article.text[before.end:after.start] == "\n\n"
    for block in article.blocks:
        piece = article.text[block.start:block.end]
        assert piece and piece == piece.strip()


def test_parse_is_deterministic(sample):
    again = parse_page(RawPage(SAMPLE))
    assert [(a.article_id, a.text, a.content_sha256) for a in again] == \
        [(a.article_id, a.text, a.content_sha256) for a in sample]


def test_manifest_url_and_relative_path_win(tmp_path):
    page = write(tmp_path, "p.html", SAMPLE.read_bytes())
    main = parse_page(RawPage(page, url="https://example.org/story/", relative_path="stories/p.html"))[0]
    assert main.url == "https://example.org/story/"
    assert main.article_id == stable_id("art", "https://example.org/story/")
    assert main.source_path == "stories/p.html"


# ---------------------------------------------------------------- generic pages

BODY = ("Farmers from three valleys gathered at the market hall to compare notes on irrigation, "
        "seed storage and the prices they were offered at the end of the season.")


def test_plain_page_with_h1_date_paragraph_and_paragraphs(tmp_path):
    page = write(tmp_path, "plain.html", f"""<html><body>
        <h1>Valley Farmers Share Harvest Tips</h1>
        <p>14 June 2022</p>
        <p>{BODY}</p>
        <p>The meeting closed with a shared meal.</p></body></html>""")
    [article] = parse_page(RawPage(page))
    assert article.title == "Valley Farmers Share Harvest Tips"
    assert article.published == dt.date(2022, 6, 14)
    assert article.url is None
    assert article.article_id == stable_id("art", f"file:{page}")
    assert article.parent_article_id is None
    assert article.text.startswith("Valley Farmers Share Harvest Tips\n\n")
    assert BODY in article.text
    assert article.text.endswith("The meeting closed with a shared meal.")
    assert article.sectors == [] and article.funding_framework is None and article.byline is None


def test_page_with_time_datetime(tmp_path):
    page = write(tmp_path, "time.html", f"""<html><body><article>
        <h1>New Library Opens</h1>
        <p class="meta"><time datetime="2023-02-07T09:00:00+07:00">Tuesday</time></p>
        <p>{BODY}</p></article></body></html>""")
    [article] = parse_page(RawPage(page))
    assert article.title == "New Library Opens"
    assert article.published == dt.date(2023, 2, 7)  # from the attribute, the shown text is no date


def test_page_with_article_published_time_meta(tmp_path):
    page = write(tmp_path, "meta.html", f"""<html><head>
        <meta property="article:published_time" content="2020-11-30T08:00:00Z">
        <link rel="canonical" href="https://example.org/harbour/"></head>
        <body><h1>Harbour Cleanup Draws Crowds</h1><p>{BODY}</p></body></html>""")
    [article] = parse_page(RawPage(page))
    assert article.published == dt.date(2020, 11, 30)
    assert article.url == "https://example.org/harbour/"
    assert article.article_id == stable_id("art", "https://example.org/harbour/")


@pytest.mark.parametrize("dateline, published", [
    ("BANGKOK, 3 May 2021 – ", dt.date(2021, 5, 3)),
    ("PHNOM PENH, 14 August 2018 — ", dt.date(2018, 8, 14)),
    ("MANILA, May 3, 2021 - ", dt.date(2021, 5, 3)),
])
def test_dateline_only_page(tmp_path, dateline, published):
    page = write(tmp_path, "dateline.html", f"""<html><body><h1>Coastal Towns Plan Flood Defences</h1>
        <p>{dateline}Officials from five coastal towns agreed a joint plan for flood defences.</p>
        <p>{BODY}</p></body></html>""")
    [article] = parse_page(RawPage(page))
    assert article.published == published
    assert "Officials from five coastal towns" in article.text


def test_windows_1252_page(tmp_path):
    html = ('<html><head><meta charset="windows-1252"></head><body><h1>Caf\u00e9 Owners Meet</h1>'
            '<p>\u201cWe serve the best coffee in town,\u201d said the owner of the caf\u00e9 on the square.</p>'
            '</body></html>')
    page = write(tmp_path, "cp1252.html", html.encode("cp1252"))
    [article] = parse_page(RawPage(page))
    assert article.title == "Café Owners Meet"
    assert "\u201cWe serve the best coffee in town,\u201d said the owner of the café" in article.text
    assert "\ufffd" not in article.text


def test_windows_1252_page_without_a_declared_charset(tmp_path):
    html = ('<html><body><h1>Caf\u00e9 Owners Meet</h1>'
            '<p>\u201cWe serve the best coffee in town,\u201d said the owner.</p></body></html>')
    [article] = parse_page(RawPage(write(tmp_path, "cp1252.html", html.encode("cp1252"))))
    assert article.title == "Café Owners Meet"
    assert "\u201cWe serve the best coffee in town,\u201d" in article.text


def test_utf8_page_is_not_mistaken_for_windows_1252(tmp_path):
    html = '<html><body><h1>Nguyễn Thị Lan Visits Huế</h1><p>“Xin chào,” she said at the café.</p></body></html>'
    [article] = parse_page(RawPage(write(tmp_path, "utf8.html", html)))
    assert article.title == "Nguyễn Thị Lan Visits Huế"
    assert "“Xin chào,” she said at the café." in article.text


def test_page_without_body_tag(tmp_path):
    page = write(tmp_path, "nobody.html", f"<html><head><title>Quiet Valley News</title></head><p>{BODY}</p></html>")
    [article] = parse_page(RawPage(page))
    assert article.title == "Quiet Valley News"
    assert BODY in article.text


def test_page_without_title(tmp_path):
    page = write(tmp_path, "notitle.html", f"<html><body><p>10 October 2021</p><p>{BODY}</p></body></html>")
    [article] = parse_page(RawPage(page))
    assert article.title is None
    assert article.published == dt.date(2021, 10, 10)
    assert BODY in article.text
    assert all(b.kind != "title" for b in article.blocks)


def test_page_without_date(tmp_path):
    page = write(tmp_path, "nodate.html", f"<html><body><h1>Bridge Repaired</h1><p>{BODY}</p></body></html>")
    [article] = parse_page(RawPage(page))
    assert article.title == "Bridge Repaired"
    assert article.published is None
    assert BODY in article.text


def test_title_from_title_tag_drops_site_suffix(tmp_path):
    page = write(tmp_path, "t.html", f"<html><head><title>Bridge Repaired – Valley News</title></head>"
                                     f"<body><p>{BODY}</p></body></html>")
    assert parse_page(RawPage(page))[0].title == "Bridge Repaired"


def test_scripts_navigation_and_styles_stay_out_of_the_text(tmp_path):
    page = write(tmp_path, "noise.html", f"""<html><head><style>p {{ color: red; }}</style></head><body>
        <nav><ul><li>Home</li><li>About us</li></ul></nav>
        <h1>Bridge Repaired</h1><script>var tracker = 1;</script><p>{BODY}</p></body></html>""")
    text = parse_page(RawPage(page))[0].text
    assert "tracker" not in text and "color" not in text and "About us" not in text


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("name, data, reason", [
    ("empty.html", b"", "empty"),
    ("blank.html", b"  \n\t\n ", "empty"),
    ("binary.html", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
    ("notes.html", b"Just some words in a text file, with no markup at all.\nA second line.", "no HTML"),
    ("hollow.html", b"<html><body></body></html>", "no body content"),
    ("blank-body.html", b"<html><body><div>  </div><h1></h1></body></html>", "no body content"),
])
def test_bad_input_raises_parse_error_naming_file_and_reason(tmp_path, name, data, reason):
    page = write(tmp_path, name, data)
    with pytest.raises(ParseError) as caught:
        parse_page(RawPage(page))
    message = str(caught.value)
    assert str(page) in message
    assert reason.lower() in message.lower()
    assert isinstance(caught.value, ValueError)


def test_tag_soup_that_trips_the_date_library_keeps_its_text(tmp_path):
    """htmldate drops an element lxml cannot drop (no parent: the soup's root is an <svg>) and lxml asserts;
    the date guess fails quietly, the page parses (the fuzz run's one internal error)."""
    page = write(tmp_path, "soup.html", b"</p><!DOCTYPE html><html><svg>Harbour news of the week<li></title>"
                                        b"<p>Ms. Ana Lim is the Director of the Bay Trust.</p>")
    [article] = parse_page(RawPage(page))
    assert "Ms. Ana Lim is the Director of the Bay Trust." in article.text
    assert article.published is None


def test_missing_file_is_an_os_error_not_a_silent_article(tmp_path):
    with pytest.raises(OSError):
        parse_page(RawPage(tmp_path / "absent.html"))


def test_generic_byline_caption_and_trailing_credit(tmp_path):
    page = write(tmp_path, "nets.html", """<html><body><article><h1>Fishers Adopt New Nets</h1>
        <p>By Anna Berg</p>
        <p>Fishers in the bay have adopted a new kind of net that lets young fish escape.<br>Catches have stayed level.</p>
        <figure><img src="nets.jpg"><figcaption>nets-2020.jpgA fisher mends a net on the beach. © Coastal Photo Group</figcaption></figure>
        <p>The scheme will expand to two more villages next year, the cooperative said.</p>
        </article></body></html>""")
    [article] = parse_page(RawPage(page))
    assert article.byline == "Anna Berg"
    assert "By Anna Berg" not in article.text
    assert block_texts(article, "caption") == ["A fisher mends a net on the beach."]
    assert article.photo_credits == ["© Coastal Photo Group"]
    # a <br> splits a paragraph into two blocks rather than gluing the lines together
    assert "escape.\n\nCatches have stayed level." in article.text


def captioned_article(tmp_path, caption: str):
    """The article of a short story page with one figure captioned ``caption``."""
    page = write(tmp_path, "cap.html", f"""<html><body><article><h1>Workshop Opens</h1>
        <p>{BODY}</p><figure><img src="a.png"><figcaption>{caption}</figcaption></figure><p>{BODY}</p>
        </article></body></html>""")
    [article] = parse_page(RawPage(page))
    return article


@pytest.mark.parametrize("caption, kept, credit", [
    ("Ms. Ana Lim opens the workshop in Hanoi. (Foto: Harbour Daily)", "Ms. Ana Lim opens the workshop in Hanoi.", "(Foto: Harbour Daily)"),
    ("Ms. Ana Lim opens the workshop. (WIRE/Jonas Berg)", "Ms. Ana Lim opens the workshop.", "(WIRE/Jonas Berg)"),
    ("Ms. Ana Lim opens the workshop (jberg / stockpics.com)", "Ms. Ana Lim opens the workshop", "(jberg / stockpics.com)"),
    ("Ms. Ana Lim opens the workshop in Hanoi. Jonas Berg/Wire files", "Ms. Ana Lim opens the workshop in Hanoi.", "Jonas Berg/Wire files"),
    ("Ms. Ana Lim opens the workshop. Quelle: Harbour Daily", "Ms. Ana Lim opens the workshop.", "Quelle: Harbour Daily"),
    ("The quay at dawn / (c) Jonas Berg", "The quay at dawn", "(c) Jonas Berg"),
])
def test_credit_at_the_end_of_a_caption_goes_to_photo_credits(tmp_path, caption, kept, credit):
    article = captioned_article(tmp_path, caption)
    assert block_texts(article, "caption") == [kept]
    assert article.photo_credits == [credit]


@pytest.mark.parametrize("caption", ["Participants of the 2019/2020 cohort in Hanoi", "The team at work (2019/2020)",
                                     "Tables of input / output at the workshop", "Ms. Ana Lim (left) and Mr. Jonas Berg",
                                     "Water source: the Tam river near the Valley Cooperative",
                                     "Ms. Ana Lim opens the workshop. The 2024/2025 season starts next week",
                                     "The new pumps at work (flow 40 km/h)", "The harbour Before / After"])
def test_caption_without_a_credit_is_kept_whole(tmp_path, caption):
    article = captioned_article(tmp_path, caption)
    assert block_texts(article, "caption") == [caption]
    assert article.photo_credits == []


def test_short_lines_after_the_story_body_outside_its_container_are_left_out(tmp_path):
    """A "share this"/contact line kept after the body's container is furniture; prose there (an author note) stays."""
    paragraphs = "".join(f"<p>{BODY} Paragraph {i} of the story goes on with more detail.</p>" for i in range(6))
    page = write(tmp_path, "tail.html", f"""<html><body><main><article><h1>Harbour Quay Reopens</h1>
        <div class="story-body">{paragraphs}</div>
        <div class="story-extras"><p>Contact for this topic:</p>
        <p>Ms. Mai Tran is a correspondent of the Harbour Daily covering ports and shipping in the region.</p>
        <p>Further reading on ports</p></div></article></main></body></html>""")
    [article] = parse_page(RawPage(page))
    assert "Paragraph 5 of the story" in article.text
    assert "Ms. Mai Tran is a correspondent" in article.text
    assert "Contact for this topic:" not in article.text
    assert "Further reading on ports" not in article.text


def test_an_empty_block_above_the_story_does_not_pass_for_kept_text(tmp_path):
    """A block with no text is "found" in any text: taken for one trafilatura kept, an empty <p> at the top of the
    page let the recall pass put back every line between it and the story (here a line trafilatura dropped)."""
    paragraphs = "".join(f"<p>{BODY} Part {i} of the story adds more detail on the boats.</p>" for i in range(3))
    page = f"""<html><body><div class="page"><div class="top"><p>  </p></div>
        <article><div class="article-meta"><p>Home / Travel / Northern rivers / Boat builders</p></div>
        <h1>Boat builders of the north</h1>{paragraphs}</article></div></body></html>"""
    [article] = parse_page(RawPage(write(tmp_path, "empty-top.html", page)))
    assert "Part 2 of the story" in article.text
    assert "Home / Travel" not in article.text


@pytest.mark.parametrize("html", [
    "<!DOCTYPE html>\n<html><body><form><label>Name</label><input name=q><select><option>A</option></select></form>"
    "<p>Ms. Ana Lim chairs the Bay Trust.</p></body></html>",
    "<html/>\n<body><p>Ms. Ana Lim chairs the Bay Trust.</p></body>",
    "<div><p>Ms. Ana Lim chairs the Bay Trust.</p><p>Second paragraph.</p></div>",
])
def test_the_stage_parser_reads_a_page_as_trafilatura_loader_does(tmp_path, html):
    """One element class for every tag (looked up in C) gives the tree trafilatura's own loader gives."""
    from lxml import etree
    from trafilatura.utils import load_html
    tree = parse_reading.load_tree(html, tmp_path / "page.html")
    assert etree.tostring(tree) == etree.tostring(load_html(html))
    assert "Ms. Ana Lim chairs the Bay Trust." in tree.text_content()


LEAD_PAGE = """<html><body><header><nav><a href="/">Home</a></nav></header><main><article><h1>Valley Farmers Share Pumps</h1>
<div class="article-intro"><div class="text-intro">Ms. Mai Tran, chair of the Valley Cooperative, has opened the first
shared pump station in the district.</div></div>
<h2 class="standfirst">The cooperative said on Monday that the pumps will be lent to members in turn through the dry season.</h2>
<div class="article-body">{paragraphs}</div>
<div class="author-box"><div class="bio">Jonas Berg writes about farming and water for the paper and lives in the valley.</div></div>
</article></main><footer><p>Copyright 2025</p></footer></body></html>"""


def test_a_lead_in_a_div_or_a_heading_tag_comes_back_as_a_paragraph(tmp_path):
    """A standfirst printed straight in a <div>, or set in a heading tag, is the story's prose (it often names the
    people); trafilatura drops both here. A <div> of prose after the story's end (an author's bio) stays out."""
    paragraphs = "".join(f"<p>{BODY} Part {i} of the story adds more detail on the pumps.</p>" for i in range(5))
    [article] = parse_page(RawPage(write(tmp_path, "lead.html", LEAD_PAGE.format(paragraphs=paragraphs))))
    paragraphs_found = block_texts(article, "paragraph")
    assert paragraphs_found[0] == ("Ms. Mai Tran, chair of the Valley Cooperative, has opened the first shared pump "
                                   "station in the district.")
    assert paragraphs_found[1].startswith("The cooperative said on Monday")
    assert not block_texts(article, "heading")
    assert "Jonas Berg writes about farming" not in article.text


RELATED_PAGE = """<html><head><link rel="canonical" href="https://example.org/news/{slug}/"></head><body>
<article><h1>{title}</h1><p class="date">4 May 2023</p>
<p>Dr. Ilse Varga, Director of the Danube Training Institute, opened the course for forty officials from the region.</p>
<section class="related-posts"><h3>Related stories</h3>
<div class="item"><h4><a href="https://example.org/news/shared-story/">A Shared Story</a></h4>
<p>{related}</p><span class="date">1 April 2023</span></div></section></article></body></html>"""
LONG_RELATED = ("Mr. Tomas Reyes, Programme Officer of the Coastal Resilience Network, explained how the network "
                "trained village volunteers in early warning drills and shared the results with district offices. ") * 2


def test_related_item_whose_heading_holds_the_link(tmp_path):
    page = write(tmp_path, "a.html", RELATED_PAGE.format(slug="a", title="Course Opens", related=LONG_RELATED))
    main, child = parse_page(RawPage(page))
    assert child.url == "https://example.org/news/shared-story/"
    assert child.title == "A Shared Story" and child.parent_article_id == main.article_id
    assert "Tomas Reyes" in child.text and "Tomas Reyes" not in main.text


def test_a_name_that_opens_like_an_image_file_keeps_its_letters(tmp_path):
    page = write(tmp_path, "img.html", """<html><body><article><h1>Harbour Quay Reopens</h1>
<p>St.Tiffany Harbour Trust and Mr.Gifford Lindqvist opened the old quay on Monday after two years of repairs.</p>
<figure><img src="q.jpg"><figcaption>quay-2021.jpgDivers inspect the old piles.</figcaption></figure>
</article></body></html>""")
    [article] = parse_page(RawPage(page))
    assert "St.Tiffany Harbour Trust and Mr.Gifford Lindqvist" in article.text
    assert block_texts(article, "caption") == ["Divers inspect the old piles."]


def test_a_footnote_item_that_is_only_its_number_does_not_swallow_numbers_in_the_story(tmp_path):
    page = write(tmp_path, "fn.html", f"""<html><body><article><h1>Harbour Quay Reopens</h1><p>{BODY}</p>
<p>Piles replaced in the first year:</p><ul><li>12</li><li>40</li></ul>
<p>The rest followed in the second year of the works on the old quay, the authority said.</p>
<div class="footnotes"><ol><li>1</li><li>Figures from the port authority's annual report.</li></ol></div>
</article></body></html>""")
    [article] = parse_page(RawPage(page))
    assert {"12", "40"} <= set(block_texts(article, "paragraph"))  # they were taken for footnotes, then dropped
    assert block_texts(article, "footnote") == ["Figures from the port authority's annual report."]


def test_a_taxonomy_label_set_in_bold_inside_its_heading_is_read_once(tmp_path):
    page = write(tmp_path, "tax.html", f"""<html><body><article><h1>Harbour Quay Reopens</h1><p>{BODY}</p>
<h4><strong>Sectors</strong></h4><ul><li>Transport</li><li>Disaster Management</li></ul></article></body></html>""")
    [article] = parse_page(RawPage(page))
    assert article.sectors == ["Transport", "Disaster Management"]
    assert "Transport" not in article.text


def test_a_related_item_whose_class_only_contains_date_keeps_its_text(tmp_path):
    candidate = RELATED_PAGE.replace("<p>{related}</p>", '<div class="candidate-profile"><p>{related}</p></div>')
    page = write(tmp_path, "c.html", candidate.format(slug="c", title="Course Opens", related=LONG_RELATED))
    main, child = parse_page(RawPage(page))
    assert "Tomas Reyes" in child.text  # "candidate" is no date element to drop


def test_a_story_section_that_opens_with_more_is_no_related_block(tmp_path):
    page = write(tmp_path, "more.html", """<html><body><article><h1>Valley Cooperative Grows</h1>
<p>Ms. Mai Tran, chair of the Valley Cooperative, opened the first shared pump station in the district.</p>
<div class="section"><h2>More women join the cooperative</h2>
<p>Ms. Lena Okoro, a rice farmer from the lower valley, joined the cooperative board in March this year.</p>
<p>She now leads the training of new members in keeping accounts and planning the dry-season planting.</p>
</div></article></body></html>""")
    [article] = parse_page(RawPage(page))
    assert "Lena Okoro" in article.text and "dry-season planting" in article.text


def test_menus_footers_and_link_lists_stay_out_of_the_text(tmp_path):
    page = write(tmp_path, "chrome.html", """<html><body>
<p class="site-name"><a href="/">Regional Portal</a></p>
<ul class="menu"><li><a href="/">Home</a></li><li><a href="/about/">About Us</a></li></ul>
<h1>Engineers Meet in Hanoi</h1><p class="date">2 June 2023</p>
<p>Ms. Petra Novak, Chief Engineer of the Delta Water Board, presented the new flood maps to forty engineers.</p>
<p><a href="/share/fb">Share on Facebook</a> <a href="/share/x">Share on X</a></p>
<div class="footer"><p>Regional Portal | Hanoi</p><p><a href="/contact/">Contact</a></p></div>
</body></html>""")
    [article] = parse_page(RawPage(page))
    assert "Petra Novak" in article.text
    for chrome in ("Home", "About Us", "Share on", "Contact", "Regional Portal"):
        assert chrome not in article.text


# ---------------------------------------------------------------- any page on disk

STORY = f"""<html><head><title>Harbour Quay Reopens</title></head><body><article><h1>Harbour Quay Reopens</h1>
<p>{BODY}</p><p>The quay had been closed for two years while its timber piles were replaced.</p></article></body></html>"""


@pytest.mark.parametrize("name, wanted", [
    ("a.html", True), ("b.HTM", True), ("c.xhtml", True), ("d.Html.GZ", True), ("e.htm.gz", True), ("f.shtml", True),
    ("f.txt", False), ("g.gz", False), ("h.html.bak", False), ("notes.json", False),
])
def test_page_file_names(name, wanted):
    assert is_page_name(name) is wanted


@pytest.mark.parametrize("name", ["story.HTM", "story.XHTML", "story.html.gz", "story.HTML.GZ"])
def test_any_page_suffix_and_gzip_parse_like_plain_html(tmp_path, name):
    plain = parse_page(RawPage(write(tmp_path, "plain.html", STORY)))[0]
    data = gzip.compress(STORY.encode("utf-8")) if name.lower().endswith(".gz") else STORY.encode("utf-8")
    article = parse_page(RawPage(write(tmp_path, name, data)))[0]
    assert article.text == plain.text and article.title == "Harbour Quay Reopens"
    assert BODY in article.text


def test_gzip_page_over_the_decompression_cap_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(parse_reading, "MAX_DECOMPRESSED_BYTES", 4096)
    page = write(tmp_path, "huge.html.gz", gzip.compress((STORY + " " * 10_000).encode("utf-8")))
    with pytest.raises(ParseError, match="decompresses to more than 4096 bytes") as caught:
        parse_page(RawPage(page))
    assert str(page) in str(caught.value)


def test_corrupt_gzip_page_is_reported(tmp_path):
    page = write(tmp_path, "broken.html.gz", gzip.compress(STORY.encode("utf-8"))[:40])
    with pytest.raises(ParseError, match="corrupt gzip") as caught:
        parse_page(RawPage(page))
    assert str(page) in str(caught.value)


@pytest.mark.parametrize("encoding, title, sentence", [
    ("iso-8859-2", "Łódź Żaglówki Wracają", "Żeglarze z Łodzi wrócili na jezioro, gdzie spędzili całe lato."),
    ("shift_jis", "港の新しい桟橋", "港の新しい桟橋は二年間の工事の後に再び開かれました。"),
    ("koi8-r", "Новый причал в гавани", "Новый причал снова открыт после двух лет ремонта, сказал капитан порта."),
])
def test_declared_non_utf8_encodings(tmp_path, encoding, title, sentence):
    html = (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={encoding}"></head>'
            f"<body><h1>{title}</h1><p>{sentence} {sentence}</p></body></html>")
    [article] = parse_page(RawPage(write(tmp_path, "page.html", html.encode(encoding))))
    assert article.title == title
    assert sentence in article.text


def test_undeclared_cyrillic_page_is_detected(tmp_path):
    sentence = ("Новый причал снова открыт после двух лет ремонта, сказал капитан порта, и рыбаки уже "
                "вернулись к работе на восточной стороне гавани.")
    html = f"<html><body><h1>Новый причал в гавани</h1><p>{sentence}</p><p>{sentence}</p></body></html>"
    [article] = parse_page(RawPage(write(tmp_path, "page.html", html.encode("cp1251"))))
    assert article.title == "Новый причал в гавани"
    assert sentence in article.text


def test_utf16_page_with_byte_order_mark(tmp_path):
    [article] = parse_page(RawPage(write(tmp_path, "page.html", STORY.encode("utf-16"))))
    assert article.title == "Harbour Quay Reopens" and BODY in article.text


def test_utf8_page_with_a_stray_byte_stays_utf8(tmp_path):
    """One invalid byte (a cut character) must not turn every accented name of a UTF-8 page into mojibake."""
    sentence = "Ms. Zofia Wiśniewska, Dyrektor of the Łódź Żeglarze Club, spoke with Mr. Jürgen Köhler about sailing."
    html = (f'<html><head><meta charset="utf-8"></head><body><h1>Żeglarze wracają</h1><p>{sentence}</p>'
            f'<p>{sentence}</p><p>Last line \u00e9t\u00e9 \u00e0 bient\u00f4t.</p></body></html>').encode("utf-8")
    html = html.replace(b"\xc3\xa9t\xc3\xa9", b"\xe9t\xc3\xa9")  # one Latin-1 byte pasted into the page
    [article] = parse_page(RawPage(write(tmp_path, "page.html", html)))
    assert article.title == "Żeglarze wracają"
    assert sentence in article.text


def test_mostly_utf8_test_keeps_single_byte_pages_single_byte():
    latin1 = ("Die Bäcker in München öffnen früh; Grüße aus Köln und Düsseldorf. " * 20).encode("cp1252")
    assert not parse_reading._mostly_utf8(latin1)
    assert parse_reading._mostly_utf8(("Nguyễn Thị Lan " * 50).encode("utf-8") + b"\xff")


def test_mislabelled_utf8_and_latin1_label(tmp_path):
    html = ('<html><head><meta charset="iso-8859-1"></head><body><h1>Caf\u00e9 Owners Meet</h1>'
            '<p>\u201cWe serve the best coffee in town,\u201d said the owner of the caf\u00e9.</p></body></html>')
    [article] = parse_page(RawPage(write(tmp_path, "page.html", html.encode("cp1252"))))
    assert "\u201cWe serve the best coffee in town,\u201d" in article.text  # a latin-1 label is read as Windows-1252


# ---------------------------------------------------------------- pathological pages finish

# Generous: these parse in well under a second; an unbounded algorithm (the old parser on a deeply nested table
# did not finish in 300 s) would blow through it.
PATHOLOGICAL_PAGE_SECONDS = 30


def test_deeply_nested_table_finishes_and_says_what_it_could_not_read(tmp_path, caplog):
    depth = 2000
    html = ("<html><body><h1>Nested Tables</h1><p>" + BODY + "</p>" + "<table><tr><td>" * depth
            + "<p>The innermost cell.</p>" + "</td></tr></table>" * depth + "</body></html>")
    start = time.perf_counter()
    [article] = parse_page(RawPage(write(tmp_path, "nested.html", html)))
    assert time.perf_counter() - start < PATHOLOGICAL_PAGE_SECONDS
    assert BODY in article.text
    assert any("nested deeper" in record.getMessage() and "nested.html" in record.getMessage() for record in caplog.records)


def test_megabyte_page_finishes(tmp_path):
    count = 1_000_000 // len(f"<p>Entry 0: {BODY}</p>\n")
    paragraphs = "".join(f"<p>Entry {i}: {BODY}</p>\n" for i in range(count))
    html = "<html><body><article><h1>A Long Record</h1>" + paragraphs + "</article></body></html>"
    assert len(html) >= 1_000_000
    start = time.perf_counter()
    [article] = parse_page(RawPage(write(tmp_path, "long.html", html)))
    assert time.perf_counter() - start < PATHOLOGICAL_PAGE_SECONDS
    assert f"Entry 0: {BODY}" in article.text and f"Entry {count - 1}: {BODY}" in article.text


# ---------------------------------------------------------------- published date and byline on real-looking pages


def _story(head: str = "", top: str = "", url_comment: str = "") -> str:
    return (f"<html><head>{head}</head><body>{url_comment}<article><h1>Harbour Quay Reopens</h1>{top}"
            f"<p>{BODY}</p><p>The quay had been closed for two years while its timber piles were replaced.</p>"
            f"</article></body></html>")


@pytest.mark.parametrize("name, html, published", [
    ("dateline", _story(top="<p>JAKARTA, 15 February 2021 – The port authority reopened the old quay on Monday "
                            "after two years of repairs.</p>"), dt.date(2021, 2, 15)),
    ("posted-on line", _story(top='<div class="entry-meta">Posted on March 12, 2024</div>'), dt.date(2024, 3, 12)),
    ("meta tag", _story(head='<meta property="article:published_time" content="2019-07-04T10:00:00+02:00">'),
     dt.date(2019, 7, 4)),
    ("JSON-LD", _story(head='<script type="application/ld+json">{"@context": "https://schema.org", "@graph": '
                            '[{"@type": "NewsArticle", "headline": "Harbour Quay Reopens", '
                            '"datePublished": "2022-10-09T08:00:00Z"}]}</script>'), dt.date(2022, 10, 9)),
    ("byline with a date", _story(top='<p class="byline">Staff | 18 March 2024</p>'), dt.date(2024, 3, 18)),
])
def test_published_date_in_the_forms_sites_print_it(tmp_path, name, html, published):
    [article] = parse_page(RawPage(write(tmp_path, "story.html", html)))
    assert article.published == published, name


def test_date_in_the_url_is_the_last_resort(tmp_path):
    url = "https://news.example.org/2020/05/17/harbour-quay-reopens/"
    [article] = parse_page(RawPage(write(tmp_path, "u.html", _story()), url=url))
    assert article.published == dt.date(2020, 5, 17)
    with_meta = _story(head='<meta property="article:published_time" content="2020-06-01">')
    [article] = parse_page(RawPage(write(tmp_path, "m.html", with_meta), url=url))
    assert article.published == dt.date(2020, 6, 1)  # the page's own date wins over the URL's


def test_a_canonical_link_urllib_cannot_split_is_passed_over(tmp_path):
    mangled = _story(head='<link rel="canonical" href="http://[harbour-desk/2021/20210914_03.html">')
    [article] = parse_page(RawPage(write(tmp_path, "m.html", mangled)))
    assert article.url is None and "Harbour Quay Reopens" in article.text


@pytest.mark.parametrize("url, published", [
    ("https://agency.example.org/english/news/2021/20210914_03.html", dt.date(2021, 9, 14)),
    ("https://news.example.org/stories/20190402-harbour-quay-reopens", dt.date(2019, 4, 2)),
    ("https://news.example.org/stories/item-120190402.html", None),  # nine digits: an id
    ("https://news.example.org/stories/20191341.html", None),  # no 41st day
    ("https://news.example.org/stories/19890402.html", None),  # before the web's earliest pages
    ("https://news.example.org/stories/quay.html?from=20190402", None),  # the query is not the page's address
    (f"https://news.example.org/stories/{dt.date.today().year + 1}0101.html", None),  # not yet
])
def test_a_day_written_as_eight_digits_in_the_url_path(tmp_path, url, published):
    [article] = parse_page(RawPage(write(tmp_path, "u.html", _story()), url=url))
    assert article.published == published


def test_a_byline_element_that_says_only_by_is_no_byline(tmp_path):
    page = _story(top='<p class="byline">By</p><p class="author-name">Mei Tanaka</p>')
    [article] = parse_page(RawPage(write(tmp_path, "by.html", page)))
    assert article.byline == "Mei Tanaka"


@pytest.mark.parametrize("line, byline, published", [
    ("Staff | 18 March 2024", "Staff", dt.date(2024, 3, 18)),
    ("By Mei Tanaka · 2 May 2023", "Mei Tanaka", dt.date(2023, 5, 2)),
    ("Text and photos by Lars Holm", "Lars Holm", None),
    ("By Harbour Desk", "Harbour Desk", None),
])
def test_byline_without_the_date_glued_on(tmp_path, line, byline, published):
    [article] = parse_page(RawPage(write(tmp_path, "b.html", _story(top=f'<p class="byline">{line}</p>'))))
    assert article.byline == byline
    assert article.published == published
    assert BODY in article.text


def test_metadata_from_trafilatura(tmp_path):
    head = ('<meta property="og:site_name" content="Harbour Weekly">'
            '<link rel="canonical" href="https://harbour.example.org/news/quay/">'
            '<meta property="article:tag" content="ports"><meta property="article:tag" content="repairs">')
    [article] = parse_page(RawPage(write(tmp_path, "m.html", _story(head=head))))
    assert article.site_name == "Harbour Weekly"
    assert article.url == "https://harbour.example.org/news/quay/"
    assert {"ports", "repairs"} <= set(article.tags)


def test_a_relative_time_is_not_printed_as_the_dateline(tmp_path):
    top = '<p class="meta"><time datetime="2021-04-09T10:00:00Z">2 months ago</time></p>'
    [article] = parse_page(RawPage(write(tmp_path, "t.html", _story(top=top))))
    assert article.published == dt.date(2021, 4, 9)
    assert "2 months ago" not in article.text
    assert all(block.kind != "dateline" for block in article.blocks)


def test_a_site_name_h1_outside_the_article_yields_to_the_declared_title(tmp_path):
    html = (f'<html><head><meta property="og:title" content="Ferry Timetable Changes for Winter"></head><body>'
            f'<div class="masthead"><h1>Island Gazette</h1></div><div class="story"><h2>Ferry Timetable Changes for '
            f'Winter</h2><p>{BODY}</p><p>The last ferry will leave at nine in the evening from November.</p></div>'
            f'</body></html>')
    [article] = parse_page(RawPage(write(tmp_path, "s.html", html)))
    assert article.title == "Ferry Timetable Changes for Winter"
    assert "Island Gazette" not in article.text


# ---------------------------------------------------------------- the recall pass around trafilatura

SECTION_ONE = ("Forty harbour pilots from six ports finished the winter course on Friday after three weeks of "
               "simulator training and night exercises in the estuary.")
SECTION_TWO = ("Ms. Ingrid Solberg, Chief Pilot of the Northern Harbour Authority, said the night exercises had "
               "been the hardest part of the course for most of the group.")
SECTION_THREE = "The next course will open in the autumn, and applications close at the end of June this year."


def test_a_story_split_over_sibling_sections_keeps_every_section(tmp_path):
    html = f"""<html><head><title>Harbour Pilots Finish Winter Course</title></head><body>
<header><nav><a href="/">Home</a> <a href="/news/">News</a></nav></header>
<main><section class="article-head"><h1>Harbour Pilots Finish Winter Course</h1></section>
<section class="article-body"><p>{SECTION_ONE}</p><p>{SECTION_ONE.replace("Forty", "Twelve")}</p></section>
<section class="article-body voices"><h2>Voices from the course</h2><p>{SECTION_TWO}</p>
<p>{SECTION_TWO.replace("hardest", "longest")}</p></section>
<section class="article-body outlook"><p>{SECTION_THREE}</p></section></main>
<footer><p>Harbour News, Pier Road 4</p></footer></body></html>"""
    [article] = parse_page(RawPage(write(tmp_path, "sections.html", html)))
    for sentence in (SECTION_ONE, SECTION_TWO, SECTION_THREE):
        assert sentence in article.text
    assert "Voices from the course" in block_texts(article, "heading")
    assert "Pier Road" not in article.text and "Home" not in article.text
    assert article.text.index(SECTION_ONE) < article.text.index(SECTION_TWO) < article.text.index(SECTION_THREE)


def test_an_author_note_in_the_story_section_is_kept(tmp_path):
    note = ("About the author: Dr. Lena Marsh is a Senior Fellow at the Institute for Coastal Studies, where she "
            "has led the harbour safety programme since 2019.")
    html = f"""<html><body><main><article><header><h1>Why Harbours Need Night Pilots</h1>
<p class="byline">By Dr. Lena Marsh, Senior Fellow at the Institute for Coastal Studies</p></header>
<div class="entry-content"><p>{SECTION_ONE}</p><p>{SECTION_TWO}</p><p>{SECTION_THREE}</p>
<div class="author-bio"><p>{note}</p></div></div>
<div class="share"><a href="#">Facebook</a> <a href="#">Email</a></div></article></main></body></html>"""
    [article] = parse_page(RawPage(write(tmp_path, "note.html", html)))
    assert note in article.text
    assert "By Dr. Lena Marsh, Senior Fellow" in article.text  # a byline with a role is kept as a line
    assert article.byline == "Dr. Lena Marsh, Senior Fellow at the Institute for Coastal Studies"
    assert "Facebook" not in article.text


# ---------------------------------------------------------------- teaser sections inside the article


TEASERS = ("<ul><li><a href='/a'>Ferry timetable changes for the winter</a></li>"
           "<li><a href='/b'>New crane arrives at the container terminal</a></li></ul>")


@pytest.mark.parametrize("heading", ["Lesen Sie auch", "Notas relacionadas", "Read more:", "À lire aussi"])
def test_a_teaser_heading_and_its_links_inside_the_article_stay_out(tmp_path, heading):
    page = _story(top="").replace("</article>", f"<h3>{heading}</h3><p>Ferry timetable changes for the winter</p>"
                                                f"<p>New crane arrives at the container terminal</p></article>")
    [article] = parse_page(RawPage(write(tmp_path, "t.html", page)))
    assert BODY in article.text
    assert heading not in article.text
    assert "Ferry timetable changes" not in article.text


def test_the_story_goes_on_after_a_teaser_block_set_inside_it(tmp_path):
    more = ("Repairs to the second quay begin in the spring, the harbour master said, once the divers "
            "have surveyed the old piles.")
    page = _story(top="").replace("</article>", f"<h3>Read also</h3><p>Ferry timetable changes for the winter</p>"
                                                f"<p>{more}</p></article>")
    [article] = parse_page(RawPage(write(tmp_path, "t.html", page)))
    assert more in article.text
    assert "Read also" not in article.text


@pytest.mark.parametrize("heading", ["Relatedness of the valley dialects", "Recommended doses for the vines",
                                     "Más de 300 familias regresan"])
def test_a_heading_that_only_starts_like_a_teaser_is_kept(tmp_path, heading):
    section = f"<h2>{heading}</h2><p>Short list line</p><p>" + BODY.replace("Farmers", "Growers") + "</p>"
    page = _story(top="").replace("</article>", section + "</article>")
    [article] = parse_page(RawPage(write(tmp_path, "t.html", page)))
    assert heading in article.text
    assert "Short list line" in article.text


# ---------------------------------------------------------------- trafilatura's metadata, looked up on demand


def test_the_library_author_is_the_fallback_when_the_page_has_no_byline_markup(tmp_path):
    head = '<meta name="author" content="Ines Varga">'
    [article] = parse_page(RawPage(write(tmp_path, "a.html", _story(head=head))))
    assert article.byline == "Ines Varga"


def test_the_page_own_byline_wins_over_the_library_author(tmp_path):
    head = '<meta name="author" content="Ines Varga">'
    [article] = parse_page(RawPage(write(tmp_path, "a.html", _story(head=head, top='<p class="byline">By Harbour Desk</p>'))))
    assert article.byline == "Harbour Desk"


def test_categories_from_category_links_and_from_the_section_meta(tmp_path):
    links = '<span class="cat-links"><a href="https://harbour.example.org/category/ports/">Ports</a></span>'
    [linked] = parse_page(RawPage(write(tmp_path, "c.html", _story(top=links))))
    [declared] = parse_page(RawPage(write(tmp_path, "d.html", _story(head='<meta property="article:section" content="Shipping">'))))
    assert "Ports" in linked.categories
    assert declared.categories == ["Shipping"]


def test_the_library_author_search_finds_a_writer_line_the_page_markup_does_not_call_a_byline(tmp_path):
    [article] = parse_page(RawPage(write(tmp_path, "w.html", _story(top='<span class="writer">Ines Varga</span>'))))
    assert article.byline == "Ines Varga"


def test_taxonomy_labels_and_caption_classes_in_capitals_are_still_read(tmp_path):
    top = ('<img src="quay.jpg"><p class="WP-CAPTION-TEXT">Divers inspect the old piles</p>'
           '<h4>SECTORS</h4><ul><li>Fisheries</li><li>Transport</li></ul>'
           '<h4>Funding Framework</h4><p>Harbour Fund</p>')
    [article] = parse_page(RawPage(write(tmp_path, "x.html", _story(top=top))))
    assert article.sectors == ["Fisheries", "Transport"]
    assert article.funding_framework == "Harbour Fund"
    assert any(b.kind == "caption" and article.text[b.start:b.end] == "Divers inspect the old piles" for b in article.blocks)


def test_a_failing_metadata_search_leaves_the_page_its_text(tmp_path, monkeypatch):
    from trafilatura import metadata as library

    def broken(*_args, **_kwargs):
        raise ValueError("odd markup")

    monkeypatch.setattr(library, "examine_meta", broken)
    monkeypatch.setattr(library, "find_date", broken)
    [article] = parse_page(RawPage(write(tmp_path, "m.html", _story())))
    assert BODY in article.text
    assert article.site_name is None and article.published is None
