"""A title's organisation and its portfolio, when the text states both (found on real pages, see docs/evaluation.md)."""
import pytest

from pipeline.extract import Chain, _portfolio_in_title

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
