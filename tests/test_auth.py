"""People and rights as plain functions (wle.auth), and the ``wle admin`` commands."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from wle.auth import (
    LoginRefused,
    PeopleError,
    add_admin,
    add_organizer,
    add_person,
    admins,
    normalize_username,
    organizers,
    remove_admin,
    remove_organizer,
    user_from_identity,
)
from wle.cli import main
from wle.models import AuditLog, ContestRole, User
from wle.models.jury import Round, RoundJuror

from tests.factories import make_contest


def identity(sub="4242", username="Alice", **extra) -> dict:
    return {"sub": sub, "username": username, "blocked": False, "editcount": 10, **extra}


def audit(session) -> list[tuple[str, str, int | None]]:
    return [(line.actor_name, line.action, line.contest_id)
            for line in session.scalars(select(AuditLog).order_by(AuditLog.id))]


# --- Usernames -------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed, stored", [
    ("alice", "Alice"), ("Alice_Smith", "Alice Smith"), ("  User:bob  ", "Bob"), ("ö_Ü", "Ö Ü"),
    ("Ab   cd", "Ab cd"),
])
def test_usernames_are_written_as_mediawiki_writes_them(typed, stored):
    assert normalize_username(typed) == stored


@pytest.mark.parametrize("typed", ["", "   ", "a#b", "a/b", "x<y>", "[[x]]", "a|b", "a\x00b", "x" * 256])
def test_impossible_usernames_are_refused(typed):
    with pytest.raises(PeopleError):
        normalize_username(typed)


# --- Logging in by identity ------------------------------------------------------------------------


def test_a_first_login_creates_the_user(session):
    user = user_from_identity(session, identity())
    assert (user.username, user.wiki_sub, user.is_admin) == ("Alice", "4242", False)


def test_the_same_sub_is_the_same_user_whatever_the_name(session):
    first = user_from_identity(session, identity())
    again = user_from_identity(session, identity(username="Alice Renamed"))
    assert again.id == first.id and again.username == "Alice Renamed"
    assert session.scalar(select(User).where(User.username == "Alice")) is None


def test_a_user_added_by_name_is_claimed_at_first_login(session):
    contest = make_contest(session)
    add_organizer(session, contest, "alice", actor="cli:test")

    user = user_from_identity(session, identity())

    assert user.wiki_sub == "4242"
    assert [u.id for u in organizers(session, contest)] == [user.id]
    assert session.scalar(select(User).where(User.username == "Alice")).id == user.id


def test_a_claimed_name_is_not_claimed_again_by_another_sub(session):
    user_from_identity(session, identity(sub="1", username="Alice"))
    # Wikimedia gives the name "Alice" to someone else (the first Alice was renamed meanwhile).
    newcomer = user_from_identity(session, identity(sub="2", username="Alice"))

    old = session.scalar(select(User).where(User.wiki_sub == "1"))
    assert newcomer.username == "Alice" and newcomer.wiki_sub == "2"
    assert old.username.startswith("Alice (renamed")
    # The first Alice's next login gives her row her new name back.
    assert user_from_identity(session, identity(sub="1", username="Alicia")).id == old.id
    assert old.username == "Alicia"


def test_renamed_into_a_name_added_meanwhile_merges_the_two(session):
    """Alice (sub 1) became "Alicia" on the wiki; an organizer added "Alicia" as a juror before
    she logged in again. Her next login keeps one account, with both sets of rights."""
    ours, theirs = make_contest(session, "wle-a"), make_contest(session, "wle-b")
    alice = user_from_identity(session, identity(sub="1", username="Alice"))
    add_organizer(session, ours, "Alice", actor="cli:test")
    add_organizer(session, ours, "Alicia", actor="cli:test")  # the same role twice: merged into one
    add_organizer(session, theirs, "Alicia", actor="cli:test")
    placeholder = session.scalar(select(User).where(User.username == "Alicia"))
    round_ = Round(contest_id=theirs.id, number=1, name="One", kind="rating", quorum=1)
    session.add(round_)
    session.flush()
    session.add(RoundJuror(round_id=round_.id, user_id=placeholder.id))
    session.flush()

    user = user_from_identity(session, identity(sub="1", username="Alicia"))

    assert user.id == alice.id and user.username == "Alicia"
    assert session.scalars(select(User)).all() == [user]
    roles = session.scalars(select(ContestRole).where(ContestRole.user_id == user.id)).all()
    assert sorted(r.contest_id for r in roles) == sorted([ours.id, theirs.id])
    assert session.scalar(select(RoundJuror.user_id)) == user.id


def test_a_blocked_account_cannot_log_in(session):
    with pytest.raises(LoginRefused, match="is blocked on Wikimedia"):
        user_from_identity(session, identity(blocked=True))
    assert session.scalars(select(User)).all() == []


@pytest.mark.parametrize("bad", [identity(sub=""), identity(sub=None), identity(username=""),
                                 identity(username="a|b")])
def test_an_identity_without_sub_or_usable_name_is_refused(session, bad):
    with pytest.raises(LoginRefused):
        user_from_identity(session, bad)


# --- Admins and organizers -------------------------------------------------------------------------


def test_admins_are_added_and_removed_with_an_audit_line(session):
    add_admin(session, "alice", actor="cli:root")
    add_admin(session, "Bob", actor="cli:root")
    add_admin(session, "Bob", actor="cli:root")  # already: nothing changes, nothing logged

    remove_admin(session, "alice", actor="cli:root")

    assert [u.username for u in admins(session)] == ["Bob"]
    assert audit(session) == [("cli:root", "admin.add", None), ("cli:root", "admin.add", None),
                              ("cli:root", "admin.remove", None)]


def test_the_last_admin_stays(session):
    add_admin(session, "Alice", actor="cli:root")
    with pytest.raises(PeopleError, match="last site admin"):
        remove_admin(session, "Alice", actor="cli:root")
    with pytest.raises(PeopleError, match="is not a site admin"):
        remove_admin(session, "Nobody", actor="cli:root")


def test_organizers_are_named_and_removed_with_audit_lines(session):
    contest = make_contest(session)
    admin = add_admin(session, "Root", actor="cli:root")

    add_organizer(session, contest, "Org", actor=admin)
    add_organizer(session, contest, "Org", actor=admin)  # already: no second role, no second line
    remove_organizer(session, contest, "org", actor=admin)

    assert organizers(session, contest) == []
    assert audit(session)[1:] == [("Root", "organizer.add", contest.id), ("Root", "organizer.remove", contest.id)]
    with pytest.raises(PeopleError, match="is not an organizer"):
        remove_organizer(session, contest, "Org", actor=admin)


def test_adding_a_person_twice_gives_the_same_user(session):
    assert add_person(session, "carol").id == add_person(session, "Carol").id


# --- The wle admin commands ------------------------------------------------------------------------


@pytest.fixture
def wle(settings):
    env = {"WLE_DATABASE_URL": settings.database_url, "WLE_INSTANCE_DIR": settings.instance_dir,
           "WLE_CONTACT": settings.contact, "WLE_REDIS_URL": ""}

    def run(*args):
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)

    return run


def test_the_first_admin_is_made_from_the_command_line(wle, session):
    assert "No site admins yet" in wle("admin", "list").output

    added = wle("admin", "add", "first_admin")

    assert added.exit_code == 0 and "First admin is a site admin." in added.output
    assert wle("admin", "list").output.splitlines() == ["First admin  (has not logged in yet)"]
    [(actor, action, _contest)] = audit(session)
    assert actor.startswith("cli:") and action == "admin.add"


def test_admin_commands_say_what_is_wrong(wle):
    wle("admin", "add", "Alice")

    last = wle("admin", "remove", "Alice")
    bad = wle("admin", "add", "a|b")

    assert last.exit_code == 1 and "last site admin" in last.output
    assert bad.exit_code == 1 and "cannot be a Wikimedia username" in bad.output


def test_local_mode_refuses_to_serve_beyond_loopback(wle):
    result = wle("run", "--host", "0.0.0.0")

    assert result.exit_code == 1
    assert "Local mode" in result.output and "--host 127.0.0.1" in result.output
