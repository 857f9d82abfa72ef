"""Who judges what: each entry gets `quorum` distinct jurors, fairly, and never its own uploader.

Pure functions over plain ids, so that the rules can be proved by property tests
(tests/test_assignment.py); the database side lives in `wle.rounds`.

Words
- A *task* is a (juror, entry) pair. It is *finished* once the juror voted, *open* before.
- An entry's *holders* are the jurors with a task for it, finished or open.
- A juror's *load* is their number of tasks, finished and open.
- An entry *excludes* the jurors who may not judge it: whoever uploaded it. Such an entry goes
  to other jurors; it is not disqualified.

The rules kept by `assign` and by every `rebalance`
1. Quorum: every entry has exactly max(quorum, its finished votes) distinct holders. Open tasks
   belong to active jurors only; finished votes, those of removed jurors too, are never touched.
2. Nobody judges their own upload: no open task goes to a juror the entry excludes.
3. Fairness: the active jurors' loads are as even as the finished votes and the exclusions
   allow — no other valid placement of the open tasks has a smaller sum of squared loads.
   Two consequences, checked by the tests:
   a. whenever some valid placement has all loads within one of each other, the loads are
      within one of each other;
   b. no open task can move from a juror A to a juror B whose load is two or more below A's
      (B does not hold that entry and the entry does not exclude B), neither directly nor
      along a chain of such moves.
   Once votes are cast (a) may be out of reach: a juror who already voted a lot (say, before
   a new juror joined) simply gets no more open tasks than keeps them level with the others.
   `assign` (a round that opens, no votes yet) insists on (a) and raises AssignmentError
   when even the fairest placement is uneven.
4. Rebalancing moves as little as it can: open tasks stay where they are unless a rule needs
   them elsewhere (a state that keeps every rule is left as it is).

Why looking for improving chains is enough: the load vectors reachable by placing the open
tasks are the degree vectors of the integer flows of a network, an M-convex set; a separable
convex function (the sum of squares) on an M-convex set is at its minimum as soon as no single
exchange — a chain of moves from one juror to another — lowers it (K. Murota, Discrete Convex
Analysis, 2003, the M-optimality criterion).
"""

from __future__ import annotations

import random
from collections import Counter, deque
from dataclasses import dataclass
from itertools import islice
from typing import Collection, Iterable, Mapping, Sequence

from flask_babel import gettext as _

Pair = tuple[int, int]
"""A task: (juror id, entry id)."""


class AssignmentError(ValueError):
    """The rules cannot all be kept. `str()` says which entries or jurors and why, by id;
    `describe()` says it with the names the caller gives."""

    def __init__(self, quorum: int, short: Mapping[int, int] | None = None, loads: Mapping[int, int] | None = None,
                 may_judge: Mapping[int, int] | None = None):
        self.quorum = quorum
        # Entry → how many distinct jurors it could have, for entries with fewer than it needs.
        self.short = dict(short or {})
        # Juror → load in the fairest placement, when that placement is still uneven.
        self.loads = dict(loads or {})
        # Juror → how many of the entries they may judge at all.
        self.may_judge = dict(may_judge or {})
        super().__init__(self.describe())

    def describe(self, entry_name=None, juror_name=None) -> str:
        entry_name, juror_name = entry_name or entry_label, juror_name or juror_label
        if self.short:
            listed = sorted(self.short)[:10]
            names = "; ".join(f"{entry_name(e)}: {self.short[e]}" for e in listed)
            more = (_(" and %(count)s more", count=len(self.short) - len(listed))
                    if len(self.short) > len(listed) else "")
            return _("%(count)s entries cannot get %(quorum)s distinct jurors (jurors available for each: "
                     "%(names)s%(more)s). A juror never judges an entry they uploaded, nor one entry twice. "
                     "Add jurors or lower the quorum.",
                     count=len(self.short), quorum=self.quorum, names=names, more=more)
        highest = max(self.loads.values())
        behind = sorted(j for j, load in self.loads.items() if load <= highest - 2)
        names = "; ".join(_("%(juror)s would get %(load)s (may judge %(may_judge)s)",
                            juror=juror_name(j), load=self.loads[j], may_judge=self.may_judge.get(j, 0))
                          for j in behind)
        return _("The entries cannot be shared out evenly (within one entry per juror): %(names)s, while others "
                 "would get %(highest)s. A juror never judges an entry they uploaded. Remove or replace these "
                 "jurors, add jurors, or lower the quorum.", names=names, highest=highest)


def entry_label(entry_id: int) -> str:
    """An entry named by its id, where its title is not at hand."""
    return _("entry %(id)s", id=entry_id)


def juror_label(juror_id: int) -> str:
    """A juror named by their id, where their username is not at hand."""
    return _("juror %(id)s", id=juror_id)


@dataclass(frozen=True)
class Moves:
    """What a rebalance changes: open tasks to delete and tasks to create. Never a finished vote."""

    create: frozenset[Pair]
    delete: frozenset[Pair]

    def __bool__(self) -> bool:
        return bool(self.create or self.delete)


def assign(entries: Mapping[int, Collection[int]], jurors: Sequence[int], quorum: int, seed: int = 0) -> set[Pair]:
    """The tasks of a round that opens: every entry to `quorum` distinct jurors, loads within one.

    `entries` maps each entry id to the juror ids it excludes (its uploader, when that is a juror).
    The same arguments give the same tasks; `seed` (say, the round id) varies who judges with whom.
    Raises AssignmentError when the rules cannot all be kept.
    """
    tasks = set(rebalance(entries, jurors, quorum, done=(), open_=(), seed=seed).create)
    loads = Counter({j: 0 for j in jurors})
    loads.update(j for j, _ in tasks)
    if loads and max(loads.values()) - min(loads.values()) > 1:
        may_judge = {j: sum(1 for excluded in entries.values() if j not in excluded) for j in loads}
        raise AssignmentError(quorum, loads=loads, may_judge=may_judge)
    return tasks


def rebalance(entries: Mapping[int, Collection[int]], jurors: Sequence[int], quorum: int,
              done: Iterable[Pair], open_: Iterable[Pair], seed: int = 0) -> Moves:
    """Re-place the open tasks of a running round after jurors or the quorum changed.

    `jurors` are the active jurors; `done` the finished votes (removed jurors' included) and
    `open_` the open tasks as they are. Open tasks of jurors no longer active, of entries no
    longer in the round, or beyond what an entry needs are deleted; missing ones are created;
    then loads are evened out (see the module's rules). Raises AssignmentError when some entry
    cannot get enough distinct jurors.
    """
    if quorum < 1:
        raise ValueError(f"The quorum must be at least 1, not {quorum}.")
    open_ = set(open_)
    board = _Board(entries, jurors, done, open_)
    rng = random.Random(seed)
    board.trim(quorum)
    board.fill(quorum, rng)
    board.level()
    board.polish()
    final = board.open_pairs()
    return Moves(create=frozenset(final - open_), delete=frozenset(open_ - final))


def loads_of(jurors: Iterable[int], tasks: Iterable[Pair]) -> dict[int, int]:
    """Each juror's number of tasks (0 for a juror with none)."""
    loads = dict.fromkeys(jurors, 0)
    for juror, _entry in tasks:
        if juror in loads:
            loads[juror] += 1
    return loads


class _Board:
    """The working state of a placement: who holds which entry, and each juror's load."""

    def __init__(self, entries: Mapping[int, Collection[int]], jurors: Sequence[int], done: Iterable[Pair],
                 open_: Iterable[Pair]):
        self.excluded = {e: frozenset(x) for e, x in entries.items()}
        self.jurors = list(dict.fromkeys(jurors))
        self.holders: dict[int, set[int]] = {e: set() for e in entries}
        self.finished: Counter[int] = Counter()  # entry → finished votes on it
        self.done_load: Counter[int] = Counter()  # juror → their finished votes
        self.held: dict[int, set[int]] = {j: set() for j in self.jurors}  # active juror → entries held
        self.open: dict[int, set[int]] = {j: set() for j in self.jurors}  # active juror → open entries
        for juror, entry in done:
            if entry in self.holders:
                self.holders[entry].add(juror)
                self.finished[entry] += 1
                self.done_load[juror] += 1
                if juror in self.held:
                    self.held[juror].add(entry)
        for juror, entry in sorted(open_):
            # Only valid open tasks stay on the board; the rest end up deleted.
            if entry in self.holders and juror in self.open and self.can_take(juror, entry):
                self._add(juror, entry)

    def load(self, juror: int) -> int:
        return self.done_load[juror] + len(self.open[juror])

    def can_take(self, juror: int, entry: int) -> bool:
        return juror not in self.holders[entry] and juror not in self.excluded[entry]

    def open_pairs(self) -> set[Pair]:
        return {(j, e) for j, entries in self.open.items() for e in entries}

    def _add(self, juror: int, entry: int) -> None:
        self.holders[entry].add(juror)
        self.held[juror].add(entry)
        self.open[juror].add(entry)

    def _remove(self, juror: int, entry: int) -> None:
        self.holders[entry].discard(juror)
        self.held[juror].discard(entry)
        self.open[juror].discard(entry)

    def move(self, entry: int, giver: int, taker: int) -> None:
        if entry not in self.open[giver] or not self.can_take(taker, entry):
            raise AssertionError(f"invalid move of entry {entry} from juror {giver} to juror {taker}")
        self._remove(giver, entry)
        self._add(taker, entry)

    def needed(self, entry: int, quorum: int) -> int:
        """How many more holders the entry needs (negative: how many too many)."""
        return max(quorum, self.finished[entry]) - len(self.holders[entry])

    def trim(self, quorum: int) -> None:
        """A lowered quorum: drop the open tasks an entry no longer needs, from the busiest jurors."""
        for entry in self.holders:
            surplus = -self.needed(entry, quorum)
            if surplus > 0:
                owners = [j for j in self.holders[entry] if j in self.open and entry in self.open[j]]
                for juror in sorted(owners, key=lambda j: (-self.load(j), j))[:surplus]:
                    self._remove(juror, entry)

    def fill(self, quorum: int, rng: random.Random) -> None:
        """Give each entry the holders it lacks: the least loaded jurors who may take it.

        The most constrained entries go first; ties between equally loaded jurors are broken at
        random (seeded), so the same jurors do not always judge together.
        """
        wanting = [e for e in self.holders if self.needed(e, quorum) > 0]
        keys = {e: (-len(self.excluded[e]), rng.random()) for e in sorted(wanting)}
        short = {}
        for entry in sorted(wanting, key=keys.__getitem__):
            need = self.needed(entry, quorum)
            candidates = [j for j in self.jurors if self.can_take(j, entry)]
            if len(candidates) < need:
                short[entry] = len(self.holders[entry]) + len(candidates)
                continue
            ranked = sorted(candidates, key=lambda j: (self.load(j), rng.random()))
            for juror in ranked[:need]:
                self._add(juror, entry)
        if short:
            raise AssignmentError(quorum, short=short)

    def level(self) -> None:
        """Bulk moves towards the water level: fast, and moving no more tasks than needed.

        The level ignores who may take what; `polish` then settles what it could not.
        """
        targets = self._water_level()
        givers = [j for j in self.jurors if self.load(j) > targets[j]]
        takers = [j for j in self.jurors if self.load(j) < targets[j]]
        for giver in givers:
            for taker in takers:
                want = min(self.load(giver) - targets[giver], targets[taker] - self.load(taker))
                if want <= 0:
                    continue
                movable = [e for e in islice((e for e in self.open[giver] if self.can_take(taker, e)), want)]
                for entry in movable:
                    self.move(entry, giver, taker)

    def _water_level(self) -> dict[int, int]:
        """Each juror's fair load: the level L with sum(max(finished, L)) = all the work, the
        remainder going one each to the busiest of the jurors at the level."""
        if not self.jurors:
            return {}
        total = sum(self.load(j) for j in self.jurors)
        low, high = 0, total
        while low < high:  # the highest L whose filling fits the total
            middle = (low + high + 1) // 2
            if sum(max(self.done_load[j], middle) for j in self.jurors) <= total:
                low = middle
            else:
                high = middle - 1
        targets = {j: max(self.done_load[j], low) for j in self.jurors}
        remainder = total - sum(targets.values())
        at_level = sorted((j for j in self.jurors if self.done_load[j] <= low), key=lambda j: (-self.load(j), j))
        for juror in at_level[:remainder]:
            targets[juror] += 1
        return targets

    def polish(self) -> None:
        """Apply improving chains of moves until there are none: then the placement is the fairest."""
        while True:
            for giver in sorted(self.jurors, key=lambda j: (-self.load(j), j)):
                if self.open[giver] and self._improve_from(giver):
                    break
            else:
                return

    def _improve_from(self, start: int) -> bool:
        """Move one task's worth of load from `start` to the lightest juror it can reach, if that
        juror's load is two or more below; return whether it did."""
        parent: dict[int, tuple[int, int] | None] = {start: None}
        queue = deque([start])
        while queue and len(parent) < len(self.jurors):
            giver = queue.popleft()
            for taker in self.jurors:
                if taker in parent or self.open[giver] <= self.held[taker]:
                    continue
                entry = next((e for e in self.open[giver] if self.can_take(taker, e)), None)
                if entry is not None:
                    parent[taker] = (giver, entry)
                    queue.append(taker)
        lightest = min(parent, key=lambda j: (self.load(j), j))
        if self.load(lightest) > self.load(start) - 2:
            return False
        chain = []
        juror = lightest
        while parent[juror] is not None:
            giver, entry = parent[juror]
            chain.append((entry, giver, juror))
            juror = giver
        for entry, giver, taker in reversed(chain):
            self.move(entry, giver, taker)
        return True
