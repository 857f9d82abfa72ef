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
from .audit import record
from .auth import PeopleError, add_admin, admins, remove_admin
from .commons import CommonsError, CommonsUnavailable
from .config import Settings
from .contests import LANGUAGES, ContestError, ContestForm, ContestNotFound, create_contest, get_contest, summary
from .db import session_scope
from .sync import SyncAlreadyRunning, begin_sync, run_sync


def _create_app():
    from .app import create_app

    return create_app()


class OperatorGroup(FlaskGroup):
    """Flask's command group without what an operator never needs.

    The app is always WLE Jury's and its settings come from WLE_* variables, so Flask's own
    ``--env-file``, ``--app`` and ``--debug`` are hidden (``wle run --debug`` is the one to use), and
    the commands other packages plug into every Flask app (flask-limiter's ``limiter``) are left out.
    """

    HIDDEN = {"env_file", "app", "debug"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for param in self.params:
            if param.name in self.HIDDEN:
                param.hidden = True

    def list_commands(self, ctx: click.Context) -> list[str]:
        return click.Group.list_commands(self, ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return click.Group.get_command(self, ctx, name)


@click.group(cls=OperatorGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def main() -> None:
    """WLE Jury: run Wiki Loves Earth photo contests on Wikimedia Commons."""


def settings() -> Settings:
    return current_app.config["WLE"]


def database_url() -> str:
    """The database URL, once its schema is known to be current (a clear error otherwise)."""
    url = settings().database_url
    try:
        migrate.ensure_current(url)
    except migrate.SchemaOutOfDate as error:
        raise click.ClickException(str(error)) from None
    return url


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--debug", is_flag=True, help="Reload on code changes and show tracebacks.")
@with_appcontext
def run(host: str, port: int, debug: bool) -> None:
    """Bring the database up to date and serve the web interface (for production use gunicorn)."""
    from .web.auth import is_loopback_address

    if settings().local_mode and not is_loopback_address(host):
        raise click.ClickException(
            f"Local mode (no WLE_OAUTH_KEY and WLE_OAUTH_SECRET: anyone can log in under any name) only "
            f"serves this machine: use --host 127.0.0.1, not {host}, or configure Wikimedia login."
        )
    migrate.upgrade(settings().database_url)
    if settings().local_mode:
        click.echo("Local mode: no Wikimedia login configured; anyone on this machine can log in by name.")
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
    database_url()
    connection = redis_connection(settings())
    # A job whose worker was killed is noticed about 70 s after its last heartbeat (every 10 s) and
    # retried at the next registry cleanup (every minute); RQ's defaults, 90 s and 10 minutes.
    worker = Worker([QUEUE_NAME], connection=connection, job_monitoring_interval=10, maintenance_interval=60)
    worker.work(with_scheduler=True, burst=burst)


@main.command()
@click.option("--once", is_flag=True, help="Start the syncs that are due now, then stop (for cron).")
@with_appcontext
def scheduler(once: bool) -> None:
    """Sync each contest on its own during its upload window and grace period (run one)."""
    import logging
    import signal
    import threading

    from jobs.runner import wait_for_local_jobs
    from jobs.scheduler import run_scheduler, start_due_syncs

    from .schedule import ScheduleError, grace_period

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = settings()
    database_url()
    if not config.contact.strip():
        raise click.ClickException("Set WLE_CONTACT (an e-mail address or a Commons user page): Wikimedia "
                                   "blocks tools that do not say who runs them, so no sync could run.")
    try:
        grace_period(config.sync_grace_days)
    except ScheduleError as error:
        raise click.ClickException(str(error)) from None
    if once:
        started = start_due_syncs(config)
        wait_for_local_jobs()  # without Redis the syncs run in this process
        click.echo(f"Syncs started: {len(started)}.")
        return
    stop = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stop.set())
    run_scheduler(config, stop)


@main.group()
def db() -> None:
    """Database schema migrations (Alembic)."""


@db.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Migrate the database to the newest schema (or to REVISION)."""
    migrate.upgrade(settings().database_url, revision)
    click.echo("Database schema is up to date." if revision == "head" else f"Database at {revision}.")


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
def admin() -> None:
    """Site admins: they create contests and name their organizers."""


def _operator() -> str:
    """Who acts from the command line, for the audit log."""
    return f"cli:{getpass.getuser()}"


@admin.command("add")
@click.argument("username")
@with_appcontext
def admin_add(username: str) -> None:
    """Make USERNAME (a Wikimedia username) a site admin; they need not have logged in yet."""
    try:
        with session_scope(database_url()) as session:
            user = add_admin(session, username, _operator())
            click.echo(f"{user.username} is a site admin.")
    except PeopleError as error:
        raise click.ClickException(str(error)) from None


@admin.command("remove")
@click.argument("username")
@with_appcontext
def admin_remove(username: str) -> None:
    """Take away USERNAME's site admin rights (not the last admin's)."""
    try:
        with session_scope(database_url()) as session:
            user = remove_admin(session, username, _operator())
            click.echo(f"{user.username} is no longer a site admin.")
    except PeopleError as error:
        raise click.ClickException(str(error)) from None


@admin.command("list")
@with_appcontext
def admin_list() -> None:
    """List the site admins."""
    with session_scope(database_url()) as session:
        people = admins(session)
        for user in people:
            click.echo(user.username + ("" if user.wiki_sub else "  (has not logged in yet)"))
    if not people:
        click.echo("No site admins yet: make one with `wle admin add USERNAME`.")


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
@click.option("--language", default="en", show_default=True, type=click.Choice(LANGUAGES),
              help="The language of the winners' wikitext for Commons.")
@with_appcontext
def contest_create(slug, name, categories, start, end, timezone, min_megapixels, language) -> None:
    """Create a contest from one or more Commons categories."""
    form = ContestForm(
        slug=slug, name=name, categories=list(categories),
        starts_at=_parse_moment(start, end=False), ends_at=_parse_moment(end, end=True),
        timezone=timezone, min_megapixels=min_megapixels, language=language,
    )
    try:
        with session_scope(database_url()) as session:
            created = create_contest(session, form)
            record(session, _operator(), "contest.create", contest_id=created.id, slug=created.slug,
                   name=created.name, categories=created.category_names)
            click.echo(f"Created contest {created.slug}: {', '.join(created.category_names)}")
    except ContestError as error:
        raise click.ClickException(str(error)) from None


@contest.command("show")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def contest_show(slug: str, as_json: bool) -> None:
    """Show a contest's entries, thumbnails, uploaders and last sync."""
    with session_scope(database_url()) as session:
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
    with session_scope(database_url()) as session:
        contest = _contest(session, slug)
        try:
            run = begin_sync(session, contest, started_by=_operator())
            record(session, _operator(), "sync.start", contest_id=contest.id, sync_run_id=run.id)
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
        _read_file_pages_and_check(session, client, contest)  # contest rules: site IDs, then every rule
        _fetch_global_usage(session, client, contest)  # statistics: images in use


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


# --- Contest rules: entries' eligibility, rule settings, site list, file pages (issue 4) ---------


@contest.command("entries")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
@click.option("--no-check", is_flag=True, help="Print what the last check stored, without checking again.")
@with_appcontext
def contest_entries(slug: str, as_json: bool, no_check: bool) -> None:
    """Every entry, whether it is eligible, and the rules it breaks (reason codes)."""
    from .eligibility import check_contest, entry_results

    with session_scope(database_url()) as session:
        contest = _contest(session, slug)
        if not no_check:
            check_contest(session, contest)
        results = entry_results(session, contest)
    if as_json:
        click.echo(json.dumps(results, ensure_ascii=False, indent=1))
        return
    for item in results:
        verdict = "gone" if item["gone"] else ("eligible" if item["eligible"] else "NOT eligible")
        decided = f" [{item['decision']} by hand]" if item["decision"] else ""
        click.echo(f"{item['pageid']:>10}  {verdict:<12} {','.join(item['reasons']) or '-'}{decided}  {item['title']}")
    eligible = sum(1 for item in results if item["eligible"])
    click.echo(f"{eligible} of {len(results)} entries eligible.")


@contest.command("rules")
@click.argument("slug")
@click.option("--enable", "enable", multiple=True, metavar="RULE", help="Switch a rule on; repeatable.")
@click.option("--disable", "disable", multiple=True, metavar="RULE", help="Switch a rule off; repeatable.")
@click.option("--min-megapixels", type=float)
@click.option("--file-types", help="Allowed MIME types, comma-separated (replaces the list).")
@click.option("--licences", help="Allowed licence short names, comma-separated (replaces the list).")
@click.option("--site-template", help="The template on file pages that holds the site ID.")
@click.option("--site-pattern", help="A regular expression every site ID must match in full.")
@click.option("--near-duplicate-distance", type=int, help="Largest perceptual-hash distance of near-duplicates.")
@click.option("--preview", is_flag=True, help="Show what the change would do; save nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def contest_rules(slug, enable, disable, min_megapixels, file_types, licences, site_template, site_pattern,
                  near_duplicate_distance, preview, as_json) -> None:
    """Show or change a contest's rules; a change checks every entry again and says what changed.

    Rules: window, min_size, file_type, licence, own_work, site_id, duplicate, near_duplicate.
    """
    from dataclasses import replace

    from .eligibility import load_settings, preview_settings, save_settings
    from .rules import RULES, RuleSettingsError

    unknown = [rule for rule in (*enable, *disable) if rule not in RULES]
    if unknown:
        raise click.BadParameter(f"unknown rule {unknown[0]!r}; the rules are {', '.join(RULES)}")

    def split(text):
        return tuple(part.strip() for part in text.split(",") if part.strip())

    with session_scope(database_url()) as session:
        contest = _contest(session, slug)
        current = load_settings(session, contest)
        changes = {
            "enabled": (current.enabled | set(enable)) - set(disable),
            "min_megapixels": min_megapixels, "file_types": split(file_types) if file_types is not None else None,
            "licences": split(licences) if licences is not None else None, "site_template": site_template,
            "site_pattern": site_pattern, "near_duplicate_distance": near_duplicate_distance,
        }
        proposed = replace(current, **{name: value for name, value in changes.items() if value is not None})
        report = None
        try:
            if preview:
                report = preview_settings(session, contest, proposed)
            elif proposed != current:
                report = save_settings(session, contest, proposed, f"cli:{getpass.getuser()}")
        except RuleSettingsError as error:
            raise click.ClickException(str(error)) from None
        shown = load_settings(session, contest) if not preview else proposed
    data = {**shown.to_json(), "min_megapixels": shown.min_megapixels,
            "saved": bool(report) and not preview, "report": report.as_dict() if report else None}
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for rule in RULES:
        click.echo(f"  [{'x' if rule in shown.enabled else ' '}] {rule}")
    click.echo(f"  minimum {shown.min_megapixels:g} Mpx; file types {', '.join(shown.file_types)}")
    click.echo(f"  licences {', '.join(shown.licences)}")
    click.echo(f"  site ID template {shown.site_template or '(none)'}, pattern {shown.site_pattern}; "
               f"near-duplicate distance {shown.near_duplicate_distance}")
    if report:
        click.echo(("Preview, nothing saved: " if preview else "Saved. ") + _report_line(report))


def _report_line(report) -> str:
    moved = ", ".join(f"{code} {before}→{after}" for code, (before, after) in report.reasons.items() if before != after)
    return (f"{len(report.newly_failing)} entries newly fail, {len(report.newly_passing)} newly pass; "
            f"{report.failing} of {report.checked} break a rule" + (f" ({moved})" if moved else "") + ".")


@contest.command("sites")
@click.argument("slug")
@click.argument("csv_file", type=click.File("rb"))
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@with_appcontext
def contest_sites(slug: str, csv_file, as_json: bool) -> None:
    """Import the national list of protected sites from CSV (ID, name, region; lat, lon, wikidata).

    Good rows are imported, bad ones reported with their line; the exit status is 1 if any was bad.
    """
    from .eligibility import check_contest
    from .sites import SiteListError, import_sites

    data = csv_file.read()
    with session_scope(database_url()) as session:
        contest = _contest(session, slug)
        try:
            report = import_sites(session, contest, data, f"cli:{getpass.getuser()}")
        except SiteListError as error:
            raise click.ClickException(str(error)) from None
        check_contest(session, contest)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(f"Sites: {report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
                   f"{report.not_in_file} kept though not in this file.")
        for bad in report.bad_rows:
            click.echo(f"  line {bad.line}: {bad.reason}", err=True)
    if report.bad_rows:
        raise SystemExit(1)


@contest.command("file-pages")
@click.argument("slug")
@click.option("--all", "everything", is_flag=True, help="Read every file page again, not only new and flagged ones.")
@with_appcontext
def contest_file_pages(slug: str, everything: bool) -> None:
    """Read the entries' file pages from Commons (their site IDs), then check the rules."""
    from jobs.context import commons_client

    config = settings()
    try:
        client = commons_client(config)
    except CommonsError as error:
        raise click.ClickException(str(error)) from None
    with session_scope(database_url()) as session:
        _read_file_pages_and_check(session, client, _contest(session, slug), everything=everything)


def _read_file_pages_and_check(session, client, contest, *, everything: bool = False) -> None:
    from .eligibility import check_contest
    from .sites import fetch_wikitext, wikitext_wanted

    wanted = wikitext_wanted(session, contest.id, everything=everything)
    try:
        with click.progressbar(length=len(wanted), label="File pages", show_pos=True) as bar:
            fetch_wikitext(session, client, contest.id, wanted, on_progress=bar.update)
    except CommonsError as error:
        raise click.ClickException(f"{error} The pages read so far are kept.") from None
    report = check_contest(session, contest)
    click.echo(f"Rules: {report.checked - report.failing} of {report.checked} entries eligible by the rules.")


@contest.command("decide")
@click.argument("slug")
@click.argument("pageid", type=int)
@click.argument("action", type=click.Choice(["disqualify", "requalify", "clear"]))
@click.option("--note", required=True, help="Why; the other organizers read it.")
@with_appcontext
def contest_decide(slug: str, pageid: int, action: str, note: str) -> None:
    """Disqualify or requalify an entry by hand, whatever the rules say (``clear``: back to the rules)."""
    from .eligibility import DecisionError, decide

    with session_scope(database_url()) as session:
        contest = _contest(session, slug)
        try:
            check = decide(session, contest, pageid, action, note, f"cli:{getpass.getuser()}")
        except DecisionError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"Entry {pageid}: {'eligible' if check.eligible else 'not eligible'}.")


# --- Statistics: images in use, and the figures organizers report (issue 4) ---------------------


def _fetch_global_usage(session, client, contest) -> None:
    """How often each file is used on the wikis, for the statistics (counts younger than a day kept)."""
    from .commons import GlobalUsageUnavailable
    from .global_usage import fetch_global_usage, usage_due

    due = usage_due(session, contest.id)
    try:
        with click.progressbar(length=len(due), label="Global usage", show_pos=True) as bar:
            result = fetch_global_usage(session, client, due, on_batch=bar.update)
    except GlobalUsageUnavailable as error:
        click.echo(f"Global usage: skipped. {error}")
        return
    except CommonsError as error:
        raise click.ClickException(f"{error} The usage fetched so far is kept: sync again later.") from None
    click.echo(f"Global usage: {result.checked} files checked, {result.in_use} in use.")


@contest.command("stats")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@with_appcontext
def contest_stats(slug: str, as_json: bool) -> None:
    """The figures organizers report: uploads, uploaders, newcomers, images in use, sites."""
    from .statistics import SHARES, as_json as statistics_json, contest_statistics, figure_label, figures

    with session_scope(database_url()) as session:
        stats = contest_statistics(session, _contest(session, slug))
    if as_json:
        click.echo(json.dumps(statistics_json(stats), ensure_ascii=False, indent=2))
        return
    click.echo(f"{stats.contest}: {stats.start.isoformat()} – {stats.end.isoformat()} ({stats.timezone})")
    for key, value in figures(stats):
        shown = "—" if value is None else (f"{value:.1%}" if key in SHARES else str(value))
        click.echo(f"  {shown:>8}  {figure_label(key)}")
    click.echo("  date        uploads  joiners")
    for day in stats.days:
        click.echo(f"  {day.date.isoformat()}  {day.uploads:>7}  {day.joiners:>7}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
