"""The ``wle`` command: everything an operator does, as a Flask CLI group."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import datetime, timedelta

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from . import migrate
from .commons import CommonsError, CommonsUnavailable
from .config import Settings
from .contests import ContestError, ContestForm, ContestNotFound, create_contest, get_contest, summary
from .db import session_scope
from .sync import SyncAlreadyRunning, begin_sync, run_sync


def _create_app():
    from .app import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def main() -> None:
    """WLE Jury: run Wiki Loves Earth photo contests on Wikimedia Commons."""


def settings() -> Settings:
    return current_app.config["WLE"]


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--debug", is_flag=True, help="Reload on code changes and show tracebacks.")
@with_appcontext
def run(host: str, port: int, debug: bool) -> None:
    """Bring the database up to date and serve the web interface (for production use gunicorn)."""
    migrate.upgrade(settings().database_url)
    if not settings().redis_url:
        click.echo("No WLE_REDIS_URL: jobs run inside this process.")
    # Flask's app.run() refuses to start from inside its own CLI; werkzeug's server is what it would use.
    from werkzeug.serving import run_simple

    app = current_app._get_current_object()
    app.debug = debug
    run_simple(host, port, app, use_reloader=debug, use_debugger=debug, threaded=True)


@main.command()
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@with_appcontext
def worker(burst: bool) -> None:
    """Run an RQ worker for the background jobs (needs WLE_REDIS_URL)."""
    from rq import Worker

    from jobs.context import redis_connection
    from jobs.runner import QUEUE_NAME

    if not settings().redis_url:
        raise click.ClickException("Set WLE_REDIS_URL to run a worker; without it, jobs run inside the web process.")
    connection = redis_connection(settings())
    Worker([QUEUE_NAME], connection=connection).work(with_scheduler=True, burst=burst)


@main.group()
def db() -> None:
    """Database schema migrations (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="heads")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Migrate the database to the newest schema (or to REVISION)."""
    migrate.upgrade(settings().database_url, revision)
    click.echo("Database schema is up to date." if revision == "heads" else f"Database at {revision}.")


@db.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Migrate the database back to REVISION ("base" for empty)."""
    migrate.downgrade(settings().database_url, revision)


@db.command("revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    """Write a new migration from the difference between the models and the database (developers)."""
    migrate.revision(settings().database_url, message)


@main.group()
def contest() -> None:
    """Create, sync and inspect contests."""


def _parse_moment(value: str, *, end: bool) -> datetime:
    """An ISO date-time; a bare date means the start of that day, or for an end, its end."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO date or date-time such as 2025-06-15T00:00+05:00") from None
    if end and len(value.strip()) == 10:
        moment += timedelta(days=1)
    return moment


@contest.command("create")
@click.argument("slug")
@click.option("--name", required=True)
@click.option("--category", "categories", multiple=True, required=True, help="A Commons category; repeatable.")
@click.option("--start", required=True, help="Start of the upload window, ISO date-time.")
@click.option("--end", required=True, help="End of the upload window, ISO date-time (a bare date: its end).")
@click.option("--timezone", default="UTC", show_default=True, help="The contest's time zone, e.g. Asia/Almaty.")
@click.option("--min-megapixels", default=2.0, show_default=True, type=float)
@with_appcontext
def contest_create(slug, name, categories, start, end, timezone, min_megapixels) -> None:
    """Create a contest from one or more Commons categories."""
    form = ContestForm(
        slug=slug, name=name, categories=list(categories),
        starts_at=_parse_moment(start, end=False), ends_at=_parse_moment(end, end=True),
        timezone=timezone, min_megapixels=min_megapixels,
    )
    try:
        with session_scope(settings().database_url) as session:
            created = create_contest(session, form)
            click.echo(f"Created contest {created.slug}: {', '.join(created.category_names)}")
    except ContestError as error:
        raise click.ClickException(str(error)) from None


@contest.command("show")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def contest_show(slug: str, as_json: bool) -> None:
    """Show a contest's entries, thumbnails, uploaders and last sync."""
    with session_scope(settings().database_url) as session:
        data = summary(session, _contest(session, slug))
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    thumbs = data["thumbnails"]
    click.echo(f"{data['name']} ({data['slug']}): {', '.join(data['categories'])}")
    click.echo(f"  window     {data['start']} – {data['end']}")
    click.echo(f"  entries    {data['entries']} ({data['entries_gone']} gone)")
    click.echo(f"  thumbnails {thumbs['done']} done, {thumbs['failed']} failed, {thumbs['pending']} pending")
    click.echo(f"  uploaders  {data['uploaders']}")
    last = data["last_sync"]
    click.echo(f"  last sync  {last['state']} {last['finished_at'] or last['created_at']}" if last else "  last sync  never")


def _contest(session, slug):
    try:
        return get_contest(session, slug)
    except ContestNotFound as error:
        raise click.ClickException(str(error)) from None


@contest.command("sync")
@click.argument("slug")
@click.option("--skip-thumbnails", is_flag=True, help="Only the metadata; thumbnails are made later by a sync job.")
@with_appcontext
def contest_sync(slug: str, skip_thumbnails: bool) -> None:
    """Sync a contest with Commons in the foreground: entries, thumbnails, uploaders."""
    from jobs.context import commons_client, download_slots
    from wle.entry_media import make_thumbnails, pending_entry_ids
    from wle.uploaders import fetch_uploaders, names_to_fetch

    config = settings()
    try:
        client = commons_client(config)
    except CommonsError as error:
        raise click.ClickException(str(error)) from None
    with session_scope(config.database_url) as session:
        contest = _contest(session, slug)
        try:
            run = begin_sync(session, contest, started_by=f"cli:{getpass.getuser()}")
        except SyncAlreadyRunning as error:
            raise click.ClickException(str(error)) from None
        session.commit()
        run = _sync_with_progress(session, run, client, contest.category_names)
        if run.error:
            raise click.ClickException(f"Sync failed: {run.error}")
        click.echo(f"Entries: {run.added} added, {run.updated} updated, {run.gone} gone, {run.returned} back "
                   f"({run.requests} requests).")
        if not skip_thumbnails:
            ids = pending_entry_ids(session, contest.id)
            slots = download_slots(config)
            failed = 0
            try:
                with click.progressbar(ids, label="Thumbnails", show_pos=True) as bar:
                    for entry_id in bar:
                        failed += make_thumbnails(session, [entry_id], client, config.media_dir, slots)["failed"]
            except CommonsUnavailable as error:
                raise click.ClickException(f"{error} The remaining thumbnails stay pending: sync again later.")
            click.echo(f"Thumbnails: {len(ids) - failed} made, {failed} failed.")
        stored = fetch_uploaders(session, client, names_to_fetch(session, contest.id))
        click.echo(f"Uploaders: {stored} fetched.")


def _sync_with_progress(session, run, client, categories: list[str]):
    total = _category_total(client, categories)
    if total is None:  # Commons could not say how many: count what comes instead
        return run_sync(session, run.id, client, on_batch=lambda r, _: click.echo(f"{r.files_seen} files listed"))
    with click.progressbar(length=total, label="Listing files", show_pos=True) as bar:
        return run_sync(session, run.id, client, on_batch=lambda r, _: bar.update(r.files_seen - bar.pos))


def _category_total(client, categories: list[str]) -> int | None:
    """How many files the categories hold, for the progress bar; None when Commons cannot say."""
    try:
        return sum(client.category_size(c) for c in categories)
    except CommonsError:
        return None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
