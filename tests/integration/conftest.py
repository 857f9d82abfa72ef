"""Fixtures for the integration tests: a real MediaWiki on loopback, seeded like a contest.

The wiki comes from Debian's packages; when they are missing the tests fail (they are not
skipped, so CI cannot pass without them) with the command that installs them.
Every test in this folder carries the `integration` marker: `pytest -m "not integration"`
leaves them out.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.mediawiki.wiki import LocalWiki, Manifest, MissingPackagesError, check_packages

HERE = Path(__file__).parent
TIMINGS = pytest.StashKey[dict]()
_categories = itertools.count(1)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.integration)


def pytest_terminal_summary(terminalreporter, config):
    timings = config.stash.get(TIMINGS, None)
    if timings:
        spent = ", ".join(f"{step} {seconds:.1f} s" for step, seconds in timings.items())
        terminalreporter.write_line(f"local MediaWiki: {spent}")


@pytest.fixture(scope="session")
def mediawiki(tmp_path_factory, pytestconfig):
    """The seeded wiki, shared by the whole session, with what seed() made in `.manifest`.

    Tests must not change what the manifest describes: a test that deletes, renames or
    re-uploads works on files of its own from `mediawiki.add_files(n, fresh_category)`.
    """
    try:
        check_packages()
    except MissingPackagesError as error:
        pytest.fail(str(error), pytrace=False)
    wiki = LocalWiki(tmp_path_factory.mktemp("mediawiki"))
    with wiki:
        wiki.seed()
        pytestconfig.stash[TIMINGS] = wiki.timings
        yield wiki


@pytest.fixture
def manifest(mediawiki) -> Manifest:
    return mediawiki.manifest


@pytest.fixture
def fresh_category() -> str:
    """A category no other test uses, for files a test will change."""
    return f"Category:Integration test files {next(_categories)}"
