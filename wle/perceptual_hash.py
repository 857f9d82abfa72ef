"""A perceptual hash of an image, to find near-duplicate uploads: the same photo re-encoded, resized
or lightly edited gives the same or a nearly equal hash; different photos rarely do.

It is the difference hash (dHash): shrink to 9×8 grey pixels and keep, for each pair of
neighbours in a row, whether the left one is brighter: 64 bits. It is computed from our own grid
thumbnail (already upright, sRGB, at most 400 px), so it costs no download and no extra
decoding of the original. Two hashes are compared by their Hamming distance.
"""

from __future__ import annotations

import io
import os

from PIL import Image, UnidentifiedImageError

HASH_SIZE = 8  # 8 rows of 8 comparisons: 64 bits
HEX_DIGITS = HASH_SIZE * HASH_SIZE // 4


class PerceptualHashError(Exception):
    """The image cannot be read to hash it; str() says why."""


def dhash(image: Image.Image) -> int:
    """The 64-bit difference hash of an image, as an int from 0 to 2**64 - 1."""
    grey = image.convert("L").resize((HASH_SIZE + 1, HASH_SIZE), Image.Resampling.BOX)
    pixels = grey.tobytes()  # one byte per grey pixel, row by row
    value = 0
    for row in range(HASH_SIZE):
        start = row * (HASH_SIZE + 1)
        for column in range(HASH_SIZE):
            left, right = pixels[start + column], pixels[start + column + 1]
            value = (value << 1) | (left > right)
    return value


def dhash_of_file(path: str | os.PathLike) -> int:
    """The hash of an image file (one of our thumbnails)."""
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as error:
        raise PerceptualHashError(f"cannot read {path}: {error.strerror or error}") from error
    return dhash_of_bytes(data)


def dhash_of_bytes(data: bytes) -> int:
    try:
        with Image.open(io.BytesIO(data), formats=("WEBP", "JPEG", "PNG")) as image:
            image.load()
            return dhash(image)
    except (UnidentifiedImageError, OSError, ValueError) as error:
        raise PerceptualHashError(f"not an image that can be hashed: {error}") from error


def distance(a: int, b: int) -> int:
    """How many of the 64 bits differ: 0 for the same picture, about 32 for unrelated ones."""
    return (a ^ b).bit_count()


def to_hex(value: int) -> str:
    """16 hex digits, for storage: portable, unlike an unsigned 64-bit integer column."""
    if not 0 <= value < 1 << (HASH_SIZE * HASH_SIZE):
        raise ValueError(f"not a 64-bit hash: {value!r}")
    return f"{value:0{HEX_DIGITS}x}"


def from_hex(text: str) -> int:
    if len(text) != HEX_DIGITS:
        raise ValueError(f"a hash is {HEX_DIGITS} hex digits, not {text!r}")
    return int(text, 16)
