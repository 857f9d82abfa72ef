"""``CommonsClient.category_files_added_since``: the request it sends, and the answers it reads
(recorded ones, over real HTTP)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.fake_api import Answer, FakeAPI
from wle.commons import CommonsClient

CATEGORY = "Images from Wiki Loves Earth 2025 in Kazakhstan"


def test_it_asks_for_the_files_put_in_the_category_since_then_sorted_by_that_moment():
    with FakeAPI([Answer.sample("cat-imageinfo-all.json")]) as api:
        client = CommonsClient(api.url, "wle-tests@example.org", sleep=lambda _: None)
        since = datetime(2025, 6, 20, 15, 30, 5, tzinfo=timezone(timedelta(hours=5)))
        files = [file for batch in client.category_files_added_since(CATEGORY, since) for file in batch]
    assert len(files) == 12 and all(file.title.startswith("File:") for file in files)
    [request] = api.requests
    params = request.params
    assert params["gcmstart"] == "2025-06-20T10:30:05Z"  # in UTC, as the API reads it
    assert (params["gcmsort"], params["gcmdir"], params["gcmnamespace"]) == ("timestamp", "newer", "6")
    assert "gcmtype" not in params  # the API ignores it with this sort
    assert params["gcmtitle"] == f"Category:{CATEGORY}" and params["gcmlimit"] == "500"
    assert params["prop"] == "imageinfo" and params["iiurlwidth"] == "1280"


def test_a_moment_without_a_time_zone_is_refused():
    client = CommonsClient("http://127.0.0.1:9/w/api.php", "wle-tests@example.org")
    with pytest.raises(ValueError, match="aware datetime"):
        client.category_files_added_since(CATEGORY, datetime(2025, 6, 20))
