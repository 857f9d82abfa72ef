"""The statistics page and its exports, through the real app, on the hand-counted contest of
tests/test_statistics.py."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from wle.models import AuditLog, ContestRole, User
from wle.models.people import JUROR, ORGANIZER
from wle.models.statistics import PreviouslyPicturedSite

from tests.test_statistics import build_contest
from tests.web.conftest import csrf_token, log_in

SLUG = "wle-2025-np"
PAGE = f"/contests/{SLUG}/statistics"
CHART_JS = Path(__file__).resolve().parents[2] / "static" / "js" / "statistics-chart.js"


@pytest.fixture
def contest(session):
    return build_contest(session)


def person(session, contest, name: str, role: str | None) -> User:
    user = User(username=name, wiki_sub=f"sub-{name}")
    session.add(user)
    session.flush()
    if role:
        session.add(ContestRole(contest_id=contest.id, user_id=user.id, role=role))
    session.commit()
    return user


def test_the_page_shows_the_figures_the_tables_and_the_chart_data(client, contest):
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    figures = dict(re.findall(r'data-figure="(\w+)">(\d+)', html))
    assert figures == {"uploads": "9", "uploaders": "5", "newcomers": "1", "in_use": "2",
                       "sites_pictured": "3", "pictured_first_time": "2", "site_id_missing": "2",
                       "site_id_unknown": "1"}
    assert "20.0%" in html and "22.2%" in html  # newcomers of uploaders, images in use of uploads
    chart = json.loads(re.search(r"data-chart='([^']*)'", html).group(1).replace("&#34;", '"'))
    assert [(d["date"], d["uploads"], d["joiners"]) for d in chart["days"]] == [
        ("2025-06-15", 2, 2), ("2025-06-16", 4, 2), ("2025-06-17", 3, 1)]
    assert "Lake Rara" in html and "Karnali" in html and "Bolat" in html
    assert "wle-2024-np" in html  # which earlier contest counts as "pictured before"
    # No inline script: the chart is drawn by a static file.
    assert re.findall(r"<script[^>]*>", html) == [
        '<script src="/static/js/language.js" defer>', '<script src="/static/js/statistics-chart.js" defer>']
    for table in ("figures", "daily", "uploaders", "regions", "sites"):
        assert f'href="/contests/{SLUG}/statistics/{table}.csv"' in html


def test_the_contest_page_links_to_the_statistics(client, contest):
    assert f'href="{PAGE}"' in client.get(f"/contests/{SLUG}").get_data(as_text=True)


def test_the_page_renders_in_kazakh_and_russian(client, contest):
    for language in ("kk", "ru"):
        assert client.get(PAGE, headers={"Accept-Language": language}).status_code == 200


def test_only_the_contests_organizers_and_admins_see_it(app, session, contest, anonymous_client):
    assert anonymous_client.get(PAGE).status_code == 302  # to the login page
    juror = log_in(app.test_client(), person(session, contest, "Juror", JUROR))
    assert juror.get(PAGE).status_code == 403
    assert juror.get(f"{PAGE}/figures.csv").status_code == 403
    assert juror.get(f"/contests/{SLUG}/statistics.json").status_code == 403
    organizer = log_in(app.test_client(), person(session, contest, "Organizer", ORGANIZER))
    assert organizer.get(PAGE).status_code == 200


def test_an_unknown_contest_is_404(client, contest):
    assert client.get("/contests/nope/statistics").status_code == 404


def test_csv_export_has_a_bom_and_the_columns(client, contest):
    response = client.get(f"{PAGE}/uploaders.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{SLUG}-uploaders.csv"'
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["rank", "uploader", "uploads", "first_upload", "newcomer"]
    assert [row[1] for row in rows[1:]] == ["Asel", "Bolat", "Gulnar", "Dana", "Erlan"]
    assert client.get(f"{PAGE}/secrets.csv").status_code == 404


def test_json_export(client, contest):
    response = client.get(f"/contests/{SLUG}/statistics.json")
    data = response.get_json()
    assert (data["uploads"], data["uploaders"], data["newcomers"], data["in_use"]) == (9, 5, 1, 2)
    assert data["sites"]["sites_pictured"] == 3 and data["contest"] == SLUG
    assert "attachment" in response.headers["Content-Disposition"]


def test_wikitext_export(client, contest):
    response = client.get(f"/contests/{SLUG}/statistics.wiki")
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert text.startswith("== WLE wle-2025-np ==\n")
    assert "| Uploads || 9\n" in text and "[[User:Asel|Asel]]" in text


def test_uploading_a_list_of_previously_pictured_sites(client, session, contest, admin):
    token = csrf_token(client, PAGE)
    response = client.post(f"{PAGE}/previously-pictured", data={
        "csrf_token": token, "list_file": (io.BytesIO("site_id\nNP-001\nNP-003\n".encode()), "earlier.csv")},
        content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "now holds 2 IDs" in html
    assert 'data-figure="pictured_first_time">0' in html  # both new sites were pictured before now
    session.expire_all()
    ids = session.scalars(select(PreviouslyPicturedSite.site_id).where(
        PreviouslyPicturedSite.contest_id == contest.id).order_by(PreviouslyPicturedSite.site_id)).all()
    assert ids == ["NP-001", "NP-003"]
    line = session.scalar(select(AuditLog).where(AuditLog.action == "statistics.previously_pictured"))
    assert (line.actor_id, line.details) == (admin.id, {"before": 1, "after": 2})


def test_a_bad_list_changes_nothing_and_says_which_line(client, session, contest):
    token = csrf_token(client, PAGE)
    response = client.post(f"{PAGE}/previously-pictured", data={
        "csrf_token": token, "list_file": (io.BytesIO(b"NP-001\nnot an id!\n"), "bad.txt")},
        content_type="multipart/form-data", follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "line 2" in html and "does not match" in html
    session.expire_all()
    assert session.scalars(select(PreviouslyPicturedSite.site_id).where(
        PreviouslyPicturedSite.contest_id == contest.id)).all() == ["NP-004"]
    missing_file = client.post(f"{PAGE}/previously-pictured", data={"csrf_token": token},
                               content_type="multipart/form-data", follow_redirects=True)
    assert "Choose a file." in missing_file.get_data(as_text=True)


def test_removing_the_list(client, session, contest):
    token = csrf_token(client, PAGE)
    response = client.post(f"{PAGE}/previously-pictured/clear", data={"csrf_token": token}, follow_redirects=True)
    assert "was removed" in response.get_data(as_text=True)
    session.expire_all()
    assert session.scalars(select(PreviouslyPicturedSite).where(
        PreviouslyPicturedSite.contest_id == contest.id)).all() == []


def test_posts_without_a_csrf_token_are_refused(client, contest):
    assert client.post(f"{PAGE}/previously-pictured/clear").status_code == 400


# The chart script, run by Node against a minimal stand-in for the DOM: one bar per day, bar
# heights in proportion, the joiners' line through every day.
NODE_HARNESS = r"""
function Node(name) { this.name = name; this.attributes = {}; this.children = []; this.textContent = ""; }
Node.prototype.setAttribute = function (k, v) { this.attributes[k] = String(v); };
Node.prototype.getAttribute = function (k) { return this.attributes[k]; };
Node.prototype.appendChild = function (c) { this.children.push(c); return c; };
var figure = new Node("figure");
figure.setAttribute("data-chart", process.argv[3]);
var listeners = {};
global.document = {
  documentElement: { lang: "en" },
  createElementNS: function (ns, name) { return new Node(name); },
  getElementById: function (id) { return id === "daily-chart" ? figure : null; },
  addEventListener: function (name, f) { listeners[name] = f; },
};
require(process.argv[2]);
listeners.DOMContentLoaded();
function all(node, name) {
  return (node.name === name ? [node] : []).concat(...node.children.map(function (c) { return all(c, name); }));
}
var svg = figure.children[0];
var bars = all(svg, "rect").filter(function (r) { return r.attributes["data-date"]; });
console.log(JSON.stringify({
  bars: bars.map(function (b) { return [b.attributes["data-date"], Number(b.attributes.height)]; }),
  titles: all(svg, "title").map(function (t) { return t.children[0].textContent; }),
  points: all(svg, "polyline")[0].attributes.points.split(" ").length,
}));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js runs the chart script")
def test_the_chart_script_draws_a_bar_per_day(tmp_path):
    chart = {"days": [{"date": "2025-06-15", "label": "15 Jun", "uploads": 2, "joiners": 2},
                      {"date": "2025-06-16", "label": "16 Jun", "uploads": 4, "joiners": 2},
                      {"date": "2025-06-17", "label": "17 Jun", "uploads": 0, "joiners": 0}],
             "names": {"uploads": "Uploads", "joiners": "First-time uploaders"}}
    harness = tmp_path / "harness.js"
    harness.write_text(NODE_HARNESS)
    done = subprocess.run(["node", str(harness), str(CHART_JS), json.dumps(chart)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    drawn = json.loads(done.stdout)
    (first, h1), (second, h2), (third, h3) = drawn["bars"]
    assert (first, second, third) == ("2025-06-15", "2025-06-16", "2025-06-17")
    assert h2 == pytest.approx(2 * h1) and h3 == 0
    assert drawn["titles"][1] == "16 Jun: Uploads 4, First-time uploaders 2"
    assert drawn["points"] == 3
