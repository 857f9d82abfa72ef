"""The listing of the files added to a category lately (the periodic sync's) against a real MediaWiki:
``gcmsort=timestamp`` with ``gcmstart`` and ``gcmnamespace=6``, with imageinfo, as Commons runs it."""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime, timedelta, timezone

from jobs.context import commons_client


def test_only_the_files_put_in_the_category_since_then_are_listed(settings, mediawiki, fresh_category):
    client = commons_client(dataclasses.replace(settings, commons_api_url=mediawiki.api_url))
    before = datetime.now(timezone.utc) - timedelta(seconds=2)
    first = mediawiki.add_files(3, fresh_category)
    time.sleep(1.5)  # the wiki stores when a page was put in a category to the second
    between = datetime.now(timezone.utc)
    time.sleep(1.5)
    later = mediawiki.add_files(2, fresh_category)

    def listed(since):
        return [file.title for batch in client.category_files_added_since(fresh_category, since) for file in batch]

    everything = listed(before)
    assert sorted(everything) == sorted(f.title for f in first + later)
    assert sorted(listed(between)) == sorted(f.title for f in later)
    assert listed(datetime.now(timezone.utc) + timedelta(minutes=1)) == []
    # The files come with their metadata and thumbnail URLs, as in the listing of the whole category.
    [batch] = list(client.category_files_added_since(fresh_category, between))
    assert all(file.thumb_url and file.uploader and file.sha1 for file in batch)
