"""The results of a round: each entry's score, its place (ties shared, "3–5"), and the votes behind it.

Scores, higher is better:
- yes/no: the share of its jurors who said yes (0 to 1);
- rating: the mean of its stars (1 to 5);
- ranking: the Borda count, as a mean over the ballots that include the entry. On a ballot of
  m entries the 1st place gets m − 1 points, the 2nd m − 2, … the last 0. On a top-N ballot — the
  juror placed only their best n of their m entries — the placed entries score the same way
  (m − place), and every entry left out scores (m − n − 1) / 2, the average of the points left
  (places n + 1 … m): being left out is the same for all of them, neither better nor worse.
Entries without a vote have no score; they come last, sharing the last place.

Places: entries with the same score share a place, shown as a range ("3–5"). Where one order
is needed (the winners list, a numbered export), ties are broken by TIE_BREAK_RULE: more votes
first, then the earlier upload, then the lower Commons page id — never at random.

"Chosen by at least k jurors" (for selecting the next round) counts, per entry, the jurors who
chose it: see CHOSEN_RULE.

Scores are exact ratios of integers turned into floats by one correctly rounded division, so
equal ratios give equal floats and a tie is never lost or invented by rounding (two different
ratios with denominators below 10^6 differ by far more than a float's precision).

The aggregation over the votes table runs in SQL (`round_tallies`); ranking them is pure
(`rank`, `preview`, `select_entries`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Iterable, Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from .models import Entry
from .models.jury import RANKING, RATING, UNRANKED, YESNO, Round, RoundEntry, Task

TIE_BREAK_RULE = _l(
    "Entries with the same score share a place, shown as a range such as 3–5. Where a single order "
    "is needed, a tie is broken by: more votes first, then the earlier upload, then the lower Commons "
    "page id."
)
SCORE_RULES = {
    YESNO: _l("Score: the share of the entry's jurors who said yes."),
    RATING: _l("Score: the mean of the entry's stars (1–5)."),
    RANKING: _l(
        "Score: Borda count, the mean over the jurors who ranked the entry. On a list of m entries, "
        "1st place gets m − 1 points, 2nd m − 2, and so on to 0 for the last. On a top-N list, each "
        "entry left out gets the average of the points left over, (m − N − 1) / 2."
    ),
}
CHOSEN_RATING = 4
"""In a rating round a juror chose an entry they gave this many stars or more."""
CHOSEN_RULE = {
    YESNO: _l("A juror chose an entry they said yes to."),
    RATING: _l("A juror chose an entry they gave 4 or 5 stars."),
    RANKING: _l(
        "A juror chose an entry they placed on their top-N list, or, on a full list, in its better half "
        "(the first ⌈m/2⌉ of m)."
    ),
}

MIN_AVERAGE = "min_average"
TOP = "top"
CHOSEN_BY = "chosen_by"
RULES = (MIN_AVERAGE, TOP, CHOSEN_BY)
SELECTION_RULES = {
    MIN_AVERAGE: _l("Entries with at least this score go on; entries without votes do not."),
    TOP: _l("The best N places go on; entries tied with the N-th place go on too."),
    CHOSEN_BY: _l("Entries chosen by at least this many jurors go on."),
}


@dataclass(frozen=True, slots=True)
class EntryTally:
    """One entry's votes in a round, added up.

    `numerator / denominator` is the score (no score without votes). `upload_order` is the
    entry's index in upload order (earlier upload first, then lower page id): the last step of
    the tie-break. `details` keeps the votes behind the score, which `behind` shows.
    """

    entry_id: int
    votes: int
    numerator: int
    denominator: int
    chosen: int
    upload_order: int
    kind: str = RATING
    details: tuple = ()  # yes/no: (no, yes); rating: counts of 1…5 stars; ranking: each ballot's place

    @property
    def score(self) -> float | None:
        return self.numerator / self.denominator if self.votes else None

    @property
    def behind(self) -> dict:
        """{"yes": 3, "no": 1}, {"1": 0, …, "5": 2}, or {"places": [1, 4, None]} (None: left off a top-N list)."""
        if self.kind == YESNO:
            no, yes = self.details or (0, 0)
            return {"yes": yes, "no": no}
        if self.kind == RATING:
            return {str(stars): n for stars, n in zip(range(1, 6), self.details or (0,) * 5)}
        return {"places": list(self.details)}


@dataclass(frozen=True, slots=True)
class Standing:
    """An entry's result: its place (first–last when tied) and its position in the one strict order."""

    entry_id: int
    position: int
    place_first: int
    place_last: int
    tally: EntryTally

    @property
    def score(self) -> float | None:
        return self.tally.score

    @property
    def votes(self) -> int:
        return self.tally.votes

    @property
    def chosen(self) -> int:
        return self.tally.chosen

    @property
    def behind(self) -> dict:
        return self.tally.behind

    @property
    def place(self) -> str:
        """ "3", or "3–5" for a tie."""
        if self.place_first == self.place_last:
            return str(self.place_first)
        return f"{self.place_first}–{self.place_last}"

    @property
    def tied(self) -> bool:
        return self.place_first != self.place_last


# -- scoring: pure ------------------------------------------------------------------------------

def borda_points_doubled(place: int, ballot_size: int, placed: int) -> int:
    """Twice the Borda points of one ballot line (twice, so that halves stay integers).

    `place` is 1 … `placed`, or UNRANKED for an entry left off a top-N ballot; `ballot_size` is m,
    the number of entries on the juror's ballot, and `placed` is n, how many they placed.
    """
    if place == UNRANKED:
        return ballot_size - placed - 1
    if not 1 <= place <= placed:
        raise ValueError(f"place {place} is outside 1…{placed}")
    return 2 * (ballot_size - place)


def chose_in_ranking(place: int, ballot_size: int, placed: int) -> bool:
    """See CHOSEN_RULE: on the top-N list, or in the better half of a full list."""
    if place == UNRANKED:
        return False
    if placed < ballot_size:
        return True
    return place <= (ballot_size + 1) // 2


def tally_ranking(ballots: Iterable[tuple[int, int, int]], entries: Sequence[int]) -> list[EntryTally]:
    """Borda tallies from ballot lines (juror id, entry id, place). `entries` are all the round's
    entries in upload order (see EntryTally.upload_order), so that entries nobody placed count too."""
    by_juror: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for juror, entry, place in ballots:
        by_juror[juror].append((entry, place))
    points: Counter[int] = Counter()
    votes: Counter[int] = Counter()
    chosen: Counter[int] = Counter()
    places: dict[int, list] = defaultdict(list)
    for lines in by_juror.values():
        size = len(lines)
        placed = sum(1 for _, place in lines if place != UNRANKED)
        for entry, place in lines:
            points[entry] += borda_points_doubled(place, size, placed)
            votes[entry] += 1
            chosen[entry] += chose_in_ranking(place, size, placed)
            places[entry].append(None if place == UNRANKED else place)
    return [
        EntryTally(entry_id=e, votes=votes[e], numerator=points[e], denominator=2 * votes[e] or 1, chosen=chosen[e],
                   upload_order=order, kind=RANKING,
                   details=tuple(sorted(places[e], key=lambda p: (p is None, p or 0))))
        for order, e in enumerate(entries)
    ]


def rank(tallies: Iterable[EntryTally]) -> list[Standing]:
    """Order the entries by score, ties sharing a place; the position breaks ties by TIE_BREAK_RULE."""
    ordered = sorted(tallies, key=_strict_order)
    scores = [t.score for t in ordered]
    standings: list[Standing] = []
    start, count = 0, len(ordered)
    while start < count:
        end = start + 1
        while end < count and scores[end] == scores[start]:
            end += 1
        standings.extend(Standing(ordered[i].entry_id, i + 1, start + 1, end, ordered[i]) for i in range(start, end))
        start = end
    return standings


def _strict_order(t: EntryTally):
    score = t.score
    return (score is None, -(score or 0.0), -t.votes, t.upload_order)


# -- selecting the next round: pure ------------------------------------------------------------

@dataclass(frozen=True)
class SelectionRule:
    """Which entries go on to the next round.

    - min_average: a score of at least `value` (entries without votes never go on);
    - top: the best `value` places — an entry tied with the last of them goes on too, so a tie
      at the boundary keeps more (the preview says how many);
    - chosen_by: chosen (CHOSEN_RULE) by at least `value` jurors.
    """

    rule: str
    value: float

    def __post_init__(self):
        if self.rule not in RULES:
            raise ValueError(f"Unknown selection rule {self.rule!r}; use one of {', '.join(RULES)}.")
        if self.rule in (TOP, CHOSEN_BY) and (self.value != int(self.value) or self.value < 1):
            raise ValueError(f"For {self.rule!r} give a whole number of at least 1, not {self.value}.")

    def keeps(self, standing: Standing) -> bool:
        if self.rule == MIN_AVERAGE:
            return standing.score is not None and standing.score >= self.value
        if self.rule == TOP:
            return standing.score is not None and standing.place_first <= self.value
        return standing.chosen >= self.value

    def as_record(self) -> dict:
        value = int(self.value) if self.rule != MIN_AVERAGE else self.value
        return {"rule": self.rule, "value": value}


def select_entries(standings: Sequence[Standing], rule: SelectionRule) -> list[int]:
    """The entry ids the rule keeps, best first."""
    return [s.entry_id for s in standings if rule.keeps(s)]


@dataclass(frozen=True)
class SelectionPreview:
    """How many entries each threshold would keep, computed without writing anything.

    - min_average: (score, kept) for each score some entry has, best first: a threshold of
      `score` keeps `kept` entries (any other threshold keeps as many as the lowest listed score
      at or above it);
    - chosen_by: (k, kept) for k = 1 … the most jurors who chose any one entry;
    - ties: (first, last) places of every tie among scored entries: top N for N in first … last
      keeps `last`; any other N keeps N.
    """

    entries: int
    scored: int
    min_average: list[tuple[float, int]]
    chosen_by: list[tuple[int, int]]
    ties: list[tuple[int, int]]

    def kept(self, rule: SelectionRule) -> int:
        if rule.rule == MIN_AVERAGE:
            return max((kept for score, kept in self.min_average if score >= rule.value), default=0)
        if rule.rule == CHOSEN_BY:
            return next((kept for k, kept in self.chosen_by if k == rule.value), 0)
        n = min(int(rule.value), self.scored)
        return next((last for first, last in self.ties if first <= n <= last), n)


def preview(standings: Sequence[Standing]) -> SelectionPreview:
    scored = [s for s in standings if s.score is not None]
    min_average = []
    for s in scored:  # best first: the count so far is what a threshold at this score keeps
        if min_average and min_average[-1][0] == s.score:
            min_average[-1] = (s.score, min_average[-1][1] + 1)
        else:
            min_average.append((s.score, (min_average[-1][1] if min_average else 0) + 1))
    chosen = Counter(s.chosen for s in standings)
    most = max(chosen, default=0)
    chosen_by = [(k, sum(n for c, n in chosen.items() if c >= k)) for k in range(1, most + 1)]
    ties = sorted({(s.place_first, s.place_last) for s in scored if s.tied})
    return SelectionPreview(entries=len(standings), scored=len(scored), min_average=min_average,
                            chosen_by=chosen_by, ties=ties)


# -- from the database --------------------------------------------------------------------------

def round_tallies(session: Session, round_: Round) -> list[EntryTally]:
    """Every entry of the round with its votes added up, in one grouped query, in upload order
    (ranking rounds read their ballot lines instead: a ballot's points depend on its length)."""
    in_upload_order = (Entry.uploaded_at, Entry.pageid)
    if round_.kind == RANKING:
        entries = list(session.scalars(
            select(RoundEntry.entry_id).join(Entry, Entry.id == RoundEntry.entry_id)
            .where(RoundEntry.round_id == round_.id).order_by(*in_upload_order)
        ))
        ballots = session.execute(
            select(Task.user_id, Task.entry_id, Task.value).where(Task.round_id == round_.id, Task.value.is_not(None))
        )
        return tally_ranking(ballots, entries)
    values = (0, 1) if round_.kind == YESNO else (1, 2, 3, 4, 5)
    chosen_from = 1 if round_.kind == YESNO else CHOSEN_RATING
    # Add the votes up first, on the covering index alone; then bring in every entry of the round.
    counted = (
        select(Task.entry_id, func.count(Task.value).label("votes"), func.sum(Task.value).label("total"),
               func.count(case((Task.value >= chosen_from, 1))).label("chosen"),
               *(func.count(case((Task.value == v, 1))).label(f"n{v}") for v in values))
        .where(Task.round_id == round_.id)
        .group_by(Task.entry_id)
        .subquery()
    )
    zero = lambda column: func.coalesce(column, 0)  # noqa: E731  (an entry without tasks)
    rows = session.execute(
        select(RoundEntry.entry_id, zero(counted.c.votes), zero(counted.c.total), zero(counted.c.chosen),
               *(zero(counted.c[f"n{v}"]) for v in values))
        .join(Entry, Entry.id == RoundEntry.entry_id)
        .outerjoin(counted, counted.c.entry_id == RoundEntry.entry_id)
        .where(RoundEntry.round_id == round_.id)
        .order_by(*in_upload_order)
    )
    kind = round_.kind
    return [EntryTally(entry_id, votes, total, votes or 1, chosen, order, kind, tuple(counts))
            for order, (entry_id, votes, total, chosen, *counts) in enumerate(rows)]


def results(session: Session, round_: Round) -> list[Standing]:
    """The round's standings, best first."""
    return rank(round_tallies(session, round_))


# -- export: pure -------------------------------------------------------------------------------

RESULT_COLUMNS = ["position", "place", "title", "author", "score", "votes", "chosen", "votes_behind", "commons_url"]


def results_table(standings: Sequence[Standing], entries: dict) -> tuple[list[str], list[list]]:
    """The results as spreadsheet rows, in the one strict order; ``entries`` maps entry ids to entries."""
    rows = []
    for s in standings:
        entry = entries[s.entry_id]
        rows.append([s.position, s.place, entry.title, entry.uploader, "" if s.score is None else round(s.score, 4),
                     s.votes, s.chosen, _behind_cell(s.behind), entry.page_url])
    return RESULT_COLUMNS, rows


def _behind_cell(behind: dict) -> str:
    """ "yes=3; no=1", "5=2; 4=1; …" (stars), or "1; 4; —" (a ranking's places, — for left off)."""
    if "places" in behind:
        return "; ".join("—" if place is None else str(place) for place in behind["places"])
    return "; ".join(f"{key}={count}" for key, count in sorted(behind.items(), key=lambda kv: kv[0], reverse=True))
