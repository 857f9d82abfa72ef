"""Thumbnails served by their opaque key, and nothing else."""

from __future__ import annotations

import secrets

import pytest

from wle.thumbnails import thumbnail_path

WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8 " + bytes(14)  # the bytes are served as they are


@pytest.fixture
def stored(settings):
    key = secrets.token_hex(16)
    path = thumbnail_path(settings.media_dir, key, "grid")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(WEBP)
    return key


def test_an_existing_thumbnail_is_served(client, stored):
    response = client.get(f"/media/{stored}/grid.webp")
    assert response.status_code == 200
    assert response.mimetype == "image/webp"
    assert response.data == WEBP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age" in response.headers["Cache-Control"]
    assert client.get(f"/media/{stored}/grid.webp", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


def test_a_missing_size_or_key_is_a_404(client, stored):
    assert client.get(f"/media/{stored}/view.webp").status_code == 404
    assert client.get(f"/media/{secrets.token_hex(16)}/grid.webp").status_code == 404


@pytest.mark.parametrize("url", [
    "/media/../grid.webp",
    "/media/..%2f..%2fsecret/grid.webp",
    "/media/%2e%2e/grid.webp",
    "/media/{key}/..%2f..%2fsecret.webp",
    "/media/{KEY}/grid.webp",
    "/media/{key}0/grid.webp",
    "/media/{short}/grid.webp",
    "/media/{key}/huge.webp",
    "/media/{key}/grid.png",
])
def test_nothing_but_a_key_and_a_size_reaches_the_disk(client, settings, stored, tmp_path, url):
    (tmp_path / "secret.webp").write_bytes(b"secret")
    url = url.format(key=stored, KEY=stored.upper(), short=stored[:31])
    response = client.get(url)
    assert response.status_code == 404
    assert b"secret" not in response.data
