"""Local thumbnails, served by their opaque key: the address reveals nothing of the file or its author.

The key and the size are checked against strict patterns before any path is built, so no
request can reach a file outside the media directory.

Thumbnails are for logged-in users only. Which contest a key belongs to is not checked: the key is
128 random bits, handed out only by pages that checked the viewer's role, and looking it up
would cost a query (on an unindexed column) for every image a juror's page loads.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, send_file

from ..thumbnails import SIZES, thumbnail_path
from . import settings
from .access import login_required

bp = Blueprint("media", __name__)

KEY = re.compile(r"[0-9a-f]{32}")
# Thumbnails of a key are remade in place when the file changes on Commons: cache for a while,
# then revalidate with the ETag.
MAX_AGE = 3600


@bp.get("/media/<key>/<size>.webp")
@login_required
def thumbnail(key: str, size: str):
    if not KEY.fullmatch(key) or size not in SIZES:
        abort(404)
    path = thumbnail_path(settings().media_dir, key, size)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype="image/webp", max_age=MAX_AGE, conditional=True, etag=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.private = True  # a shared cache must not hand it to someone not logged in
    response.cache_control.public = False
    return response
