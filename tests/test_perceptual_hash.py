"""The perceptual hash: copies of a picture stay close, different pictures are far apart."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from wle.perceptual_hash import PerceptualHashError, dhash, dhash_of_bytes, dhash_of_file, distance, from_hex, to_hex
from wle.thumbnails import render


def landscape(seed: int = 0, size=(1200, 800)) -> Image.Image:
    """A picture with structure: a gradient sky, mountains, a lake."""
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    width, height = size
    for y in range(height):
        draw.line([(0, y), (width, y)], fill=(90 + y * 100 // height, 140, 220 - y * 120 // height))
    peak = width // 3 + seed * 97 % (width // 3)
    draw.polygon([(0, height * 2 // 3), (peak, height // 4 + seed * 13 % 100), (width, height * 2 // 3)],
                 fill=(80, 70 + seed * 20 % 80, 60))
    draw.ellipse([width // 5, height * 3 // 4, width * 3 // 5, height - 10], fill=(30, 60 + seed * 31 % 120, 140))
    return image


def encoded(image: Image.Image, kind="JPEG", **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, kind, **options)
    return buffer.getvalue()


def test_resized_and_reencoded_copies_stay_close_different_pictures_do_not():
    original = landscape(1)
    copy = original.resize((600, 400)).convert("RGB")
    grid_of_original = dhash_of_bytes(render(encoded(original), {"grid": 400})["grid"])
    grid_of_copy = dhash_of_bytes(render(encoded(copy, quality=60), {"grid": 400})["grid"])
    assert distance(grid_of_original, grid_of_copy) <= 4
    other = dhash_of_bytes(render(encoded(landscape(7)), {"grid": 400})["grid"])
    assert distance(grid_of_original, other) > 8


def test_hash_is_64_bits_and_stored_as_16_hex_digits():
    value = dhash(landscape(3))
    assert 0 <= value < 2**64
    assert from_hex(to_hex(value)) == value and len(to_hex(value)) == 16
    assert to_hex(0) == "0" * 16
    with pytest.raises(ValueError):
        to_hex(2**64)
    with pytest.raises(ValueError):
        from_hex("abc")


def test_unreadable_images_raise_a_named_error(tmp_path):
    with pytest.raises(PerceptualHashError, match="not an image"):
        dhash_of_bytes(b"<html>not an image</html>")
    with pytest.raises(PerceptualHashError, match="cannot read"):
        dhash_of_file(tmp_path / "missing.webp")
    path = tmp_path / "grid.webp"
    path.write_bytes(render(encoded(landscape(2)), {"grid": 400})["grid"])
    assert dhash_of_file(path) == dhash_of_bytes(path.read_bytes())
