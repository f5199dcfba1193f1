"""The matcher: ranked codes per line, calibrated confidence, decisions, confirmed history first."""

import pytest

from fedcarbon.matching.matcher import (
    AUTO_ACCEPT,
    REVIEW,
    Candidate,
    Confirmed,
    Decision,
    History,
    Match,
    Matcher,
    confidence,
    default_matcher,
    history_confidence,
)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return default_matcher()


def test_the_issue_example_finds_bolt_manufacturing(matcher: Matcher) -> None:
    best = matcher.match(["M8 hex bolts zinc plated, 1000 pcs"])[0].best
    assert best is not None
    assert best.naics6 == "332722"
    assert best.reason == "Bolts, metal, manufacturing"
    assert best.title == "Bolt, Nut, Screw, Rivet, and Washer Manufacturing"


def test_an_erp_abbreviation_is_understood(matcher: Matcher) -> None:
    codes = [c.naics6 for c in matcher.match(["BOX CORR 24X18X12 200# DW"])[0].candidates]
    assert codes[0] == "322211"


def test_results_keep_input_order_and_one_candidate_per_code(matcher: Matcher) -> None:
    lines = ["laptop computer 14in", "copy paper A4", "diesel fuel bulk"]
    matches = matcher.match(lines, top=5)
    assert [m.description for m in matches] == lines
    for m in matches:
        codes = [c.naics6 for c in m.candidates]
        assert len(codes) == len(set(codes)) == 5
        scores = [c.score for c in m.candidates]
        assert scores == sorted(scores, reverse=True)
        assert all(0.0 <= s <= 1.0 for s in scores)


def test_top_limits_the_candidates(matcher: Matcher) -> None:
    assert len(matcher.match(["steel plate"], top=2)[0].candidates) == 2


def test_top_below_one_is_refused(matcher: Matcher) -> None:
    with pytest.raises(ValueError, match="top must be at least 1"):
        matcher.match(["steel plate"], top=0)


def test_a_line_with_no_words_has_no_candidates_and_is_unknown(matcher: Matcher) -> None:
    match = matcher.match(["#### 123/456"])[0]
    assert match.candidates == ()
    assert match.decision is Decision.UNKNOWN


def test_hostile_text_does_not_break_the_matcher(matcher: Matcher) -> None:
    lines = ["\u202e\u0000" * 300, "ß" * 900, "'; DROP TABLE x; --", "🔩 bolts"]
    matches = matcher.match(lines)
    assert len(matches) == 4
    assert matches[3].best is not None and matches[3].best.naics6 == "332722"


def test_confidence_grows_with_score_and_margin() -> None:
    assert confidence(0.8, 0.3) > confidence(0.5, 0.3) > confidence(0.5, 0.0)


def test_decisions_follow_the_thresholds() -> None:
    def match(score: float) -> Match:
        return Match("x", (Candidate("332722", "t", score, "r"),))

    assert match(AUTO_ACCEPT).decision is Decision.AUTO
    assert match(AUTO_ACCEPT - 0.01).decision is Decision.REVIEW
    assert match(REVIEW - 0.01).decision is Decision.UNKNOWN


def test_a_confirmed_text_comes_first_whatever_its_case_and_spacing(matcher: Matcher) -> None:
    history = History([Confirmed("Widget ACME 42", "332722")])
    best = matcher.match(["  widget   acme 42 "], history=history)[0].best
    assert best is not None
    assert (best.naics6, best.source, best.score) == ("332722", "confirmed", 0.99)
    assert "Widget ACME 42" in best.reason


def test_a_near_duplicate_of_a_confirmed_line_becomes_a_candidate(matcher: Matcher) -> None:
    history = History([Confirmed("Frobnicator housing grey 120 pcs", "326199")])
    match = matcher.match(["FROBNICATOR HOUSING GREY 40 PCS PO4711"], history=history)[0]
    assert match.best is not None
    assert match.best.naics6 == "326199"
    assert match.best.source == "confirmed"
    assert match.decision is Decision.AUTO


def test_an_unrelated_confirmed_line_changes_nothing(matcher: Matcher) -> None:
    history = History([Confirmed("office chair mesh", "337214")])
    with_history = matcher.match(["copy paper A4"], history=history)[0]
    assert with_history == matcher.match(["copy paper A4"])[0]


def test_a_later_override_replaces_an_earlier_confirmation() -> None:
    history = History([Confirmed("gizmo", "332722"), Confirmed("GIZMO", "326199")])
    assert len(history) == 1
    assert history.lookup(["gizmo"])[0][0][0] == "326199"


def test_history_confidence_is_capped_below_certainty() -> None:
    assert history_confidence(1.0) == 0.99
    assert history_confidence(0.76) < history_confidence(0.95) <= 0.99
