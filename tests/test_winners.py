"""The winners: prefill from the last round, the organizer's list, exports, and the public page."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import quote

import pytest

from wle import rounds, voting, winners
from wle.models.jury import RATING
from wle.winners import WinnerChoice, WinnerRow, WinnersError, place_label, to_csv, to_wikitext, wikitext_escape

from tests.factories import make_contest
from tests.test_rounds import JURORS, add_entries, audit_actions, open_first_round, organizer, tasks_of, user_id


@pytest.fixture
def judged(session):
    """A closed rating round: entry i got i % 5 + 1 stars from two jurors."""
    contest = make_contest(session)
    entries = add_entries(session, contest, 8, uploader=lambda i: f"Фотограф {i}")
    round_ = open_first_round(session, contest, kind=RATING, quorum=2)
    stars = {e.id: i % 5 + 1 for i, e in enumerate(entries, start=1)}
    for name in JURORS:
        uid = user_id(session, name)
        for task in tasks_of(session, round_, user_id=uid):
            voting.vote(session, uid, task.id, stars[task.entry_id])
    rounds.close_round(session, round_, organizer(session))
    return contest, entries, stars


def row(**changes):
    values = dict(place=1, entry_id=1, title="File:Canyon.jpg", author="Name", author_url=None,
                  commons_url="https://commons.wikimedia.org/wiki/File:Canyon.jpg", score=4.5, note="",
                  thumb_key="ab" * 16)
    values.update(changes)
    return WinnerRow(**values)


def test_the_list_is_prefilled_from_the_last_round_with_its_ties(session, judged):
    contest, entries, stars = judged
    suggested = winners.suggest_winners(session, contest, limit=3)
    assert [s.place for s in suggested] == [1, 2, 3]
    assert [stars[s.entry_id] for s in suggested] == [5, 4, 4]
    assert [s.shared_place for s in suggested] == ["1", "2–3", "2–3"]
    assert suggested[0].round_number == 1 and suggested[0].score == 5.0


def test_no_closed_round_no_prefill(session):
    contest = make_contest(session)
    with pytest.raises(WinnersError, match="No round is closed"):
        winners.suggest_winners(session, contest)


def test_the_organizer_sets_the_list_and_its_order(session, judged):
    contest, entries, stars = judged
    actor = organizer(session)
    best = [s.entry_id for s in winners.suggest_winners(session, contest, limit=3)]
    winners.set_winners(session, contest, actor, [
        WinnerChoice(best[2], 1), WinnerChoice(best[0], 2), WinnerChoice(best[1], 2, "  Special prize: canyons "),
    ])
    rows = winners.winners(session, contest)
    assert [(r.place, r.entry_id) for r in rows] == [(1, best[2]), (2, best[0]), (2, best[1])]
    assert rows[2].note == "Special prize: canyons" and rows[0].score == 4.0
    assert rows[0].author.startswith("Фотограф") and rows[0].author_url.startswith("https://commons.example/wiki/User:")
    assert audit_actions(session, contest)[-1] == "winners.set"
    winners.set_winners(session, contest, actor, [WinnerChoice(best[0], 1)])
    assert [r.entry_id for r in winners.winners(session, contest)] == [best[0]]


def test_a_bad_list_is_refused_whole(session, judged):
    contest, entries, _ = judged
    actor = organizer(session)
    other = make_contest(session, slug="wle-2025-ua")
    stranger = add_entries(session, other, 1, start=500)[0]
    entries[1].gone_at = entries[1].uploaded_at
    for choices, message in [
        ([WinnerChoice(entries[0].id, 1), WinnerChoice(entries[0].id, 2)], "twice"),
        ([WinnerChoice(entries[0].id, 0)], "whole numbers"),
        ([WinnerChoice(entries[0].id, 2), WinnerChoice(entries[2].id, 1)], "by place"),
        ([WinnerChoice(stranger.id, 1)], "not in this contest"),
        ([WinnerChoice(entries[1].id, 1)], "gone"),
        ([WinnerChoice(entries[0].id, 1, "x" * 501)], "500 characters"),
    ]:
        with pytest.raises(WinnersError, match=message):
            winners.set_winners(session, contest, actor, choices)
    assert winners.winners(session, contest) == []


def test_publishing_shows_the_winners_to_everyone_without_juror_names(session, judged):
    contest, entries, _ = judged
    actor = organizer(session)
    assert winners.public_winners(session, contest) is None
    with pytest.raises(WinnersError, match="Set the winners"):
        winners.publish(session, contest, actor)
    winners.set_winners(session, contest, actor, [WinnerChoice(entries[3].id, 1), WinnerChoice(entries[8 - 1].id, 2)])
    winners.publish(session, contest, actor)
    public = winners.public_winners(session, contest)
    assert public["published_at"] and [w["place_label"] for w in public["winners"]] == ["1st", "2nd"]
    assert public["winners"][0]["author"] == entries[3].uploader
    # An absolute thumbnail on the file's wiki, never this site's login-only /media/ address.
    page_url = entries[3].page_url
    assert public["winners"][0]["thumbnail"] == (
        page_url.split("/wiki/")[0] + "/wiki/Special:FilePath/"
        + quote(entries[3].title.removeprefix("File:").replace(" ", "_")) + "?width=330")
    text = json.dumps(public, ensure_ascii=False)
    assert not any(name in text for name in JURORS + ("Organizer",))
    winners.unpublish(session, contest, actor)
    assert winners.public_winners(session, contest) is None
    assert audit_actions(session, contest)[-3:] == ["winners.set", "winners.publish", "winners.unpublish"]


# -- exports ------------------------------------------------------------------------------------------

def test_csv_has_a_bom_and_keeps_cyrillic_and_defuses_formulas():
    data = to_csv([row(author="Фотограф Ёж", note="Спецприз"), row(place=2, author="=HYPERLINK(1)", score=None)])
    assert data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert lines[0] == ["place", "title", "author", "commons_url", "score", "note"]
    assert lines[1] == ["1", "File:Canyon.jpg", "Фотограф Ёж", "https://commons.wikimedia.org/wiki/File:Canyon.jpg",
                        "4.50", "Спецприз"]
    assert lines[2][2] == "'=HYPERLINK(1)" and lines[2][4] == ""


def test_wikitext_is_a_gallery_with_places_and_credited_authors():
    text = to_wikitext([row(author="Фотограф"), row(place=2, title="File:B.jpg", author="A'B", note="Best [[link]]"),
                        row(place=3, title="File:C.jpg", author="Bad|Name}}")])
    assert text.splitlines() == [
        "<gallery>",
        "File:Canyon.jpg|1st place — [[User:Фотограф|Фотограф]]",
        "File:B.jpg|2nd place — [[User:A'B|A&#39;B]] — Best &#91;&#91;link&#93;&#93;",
        "File:C.jpg|3rd place — Bad&#124;Name&#125;&#125;",
        "</gallery>",
    ]


@pytest.mark.parametrize("raw, safe", [
    ("~~~~", "&#126;&#126;&#126;&#126;"),
    ("{{delete}}", "&#123;&#123;delete&#125;&#125;"),
    ("__NOTOC__", "&#95;&#95;NOTOC&#95;&#95;"),
    ("see https://evil.example", "see https&#58;//evil.example"),
    ("<script>", "&#60;script&#62;"),
    ("a\nb", "a b"),
    ("'''bold'''", "&#39;&#39;&#39;bold&#39;&#39;&#39;"),
])
def test_wikitext_escape_leaves_no_markup(raw, safe):
    assert wikitext_escape(raw) == safe


@pytest.mark.parametrize("place, label", [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"),
                                          (12, "12th"), (13, "13th"), (21, "21st"), (102, "102nd"), (111, "111th")])
def test_place_labels(place, label):
    assert place_label(place) == label
