"""Tests for wle.thumbnails: sizes, orientation, colour modes, metadata, bad input, files."""

import io
import os
import stat
import struct
import warnings
import zlib

import pytest
from PIL import Image, ImageCms, PngImagePlugin

from wle import thumbnails
from wle.thumbnails import ThumbnailError, remove_thumbnails, render, thumbnail_path, write_thumbnails

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)
ORIENTATION = 0x0112
ARTIST = 0x013B


# --- helpers ------------------------------------------------------------------------------


def encode(image, format="JPEG", **options):
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def photo(size=(1920, 1280)):
    """A photo-like RGB image: detail everywhere, so encoders and decoders do real work."""
    noise = Image.effect_noise(size, 60).convert("RGB")
    fractal = Image.effect_mandelbrot(size, (-2, -1.2, 1, 1.2), 60).convert("RGB")
    return Image.blend(fractal, noise, 0.3)


def halves(size, left, right, mode="RGB"):
    """An image whose left half is `left` and right half is `right`."""
    image = Image.new(mode, size, left)
    image.paste(right, (size[0] // 2, 0, size[0], size[1]))
    return image


def opened(webp):
    image = Image.open(io.BytesIO(webp))
    assert image.format == "WEBP"
    image.load()
    return image


def close_to(actual, expected, tolerance=40):
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected))


def riff_chunks(webp):
    """The four-letter chunk names of a WebP file (RIFF container)."""
    assert webp[:4] == b"RIFF" and webp[8:12] == b"WEBP"
    names, offset = [], 12
    while offset + 8 <= len(webp):
        name, length = webp[offset : offset + 4], struct.unpack("<I", webp[offset + 4 : offset + 8])[0]
        names.append(name.decode("ascii"))
        offset += 8 + length + (length % 2)
    return names


def png_declaring(width, height):
    """A tiny PNG whose header claims `width`×`height` pixels: a decompression bomb's shape."""

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 4096))
        + chunk(b"IEND", b"")
    )


def with_exif(image, **tags):
    exif = Image.Exif()
    for tag, value in tags.items():
        exif[{"orientation": ORIENTATION, "artist": ARTIST}[tag]] = value
    return encode(image, "JPEG", quality=95, exif=exif.tobytes())


def with_xmp(jpeg, xmp):
    """`jpeg` with an XMP packet in an APP1 segment right after the start-of-image marker."""
    body = b"http://ns.adobe.com/xap/1.0/\x00" + xmp
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body + jpeg[2:]


# --- sizes ----------------------------------------------------------------------------------


def test_renders_every_size_keeping_the_aspect_ratio():
    result = render(encode(photo((2000, 1000))))

    assert list(result) == ["grid", "view"]
    assert opened(result["grid"]).size == (400, 200)
    assert opened(result["view"]).size == (1280, 640)


def test_portrait_images_fit_their_longest_edge():
    result = render(encode(photo((1280, 1920))))

    assert opened(result["grid"]).size == (267, 400)
    assert opened(result["view"]).size == (1280 * 1280 // 1920, 1280)


def test_custom_sizes_come_back_in_the_order_asked():
    result = render(encode(photo((1000, 500))), {"small": 100, "large": 800, "medium": 300})

    assert list(result) == ["small", "large", "medium"]
    assert [opened(result[name]).size for name in result] == [(100, 50), (800, 400), (300, 150)]


def test_small_images_are_never_upscaled():
    result = render(encode(photo((300, 200))))

    assert opened(result["grid"]).size == (300, 200)
    assert opened(result["view"]).size == (300, 200)


def test_big_jpeg_is_reduced_while_decoding_and_still_right():
    image = halves((3840, 2560), RED, BLUE)

    view = opened(render(encode(image))["view"])

    assert view.size == (1280, 853)
    assert close_to(view.getpixel((100, 400)), RED)
    assert close_to(view.getpixel((1180, 400)), BLUE)


@pytest.mark.parametrize("sizes", [{}, {"grid": 0}, {"grid": -5}, {"grid": 40.5}, {"grid": "400"}])
def test_nonsense_sizes_are_a_programming_error(sizes):
    with pytest.raises(ValueError):
        render(encode(photo((100, 100))), sizes)


# --- orientation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "orientation, top, bottom",
    [
        (6, RED, BLUE),  # turn 90° clockwise to view: the stored left side ends on top
        (8, BLUE, RED),  # turn 90° anticlockwise: the stored left side ends at the bottom
    ],
)
def test_exif_orientation_is_applied(orientation, top, bottom):
    stored = halves((600, 300), RED, BLUE)  # landscape as stored by the camera

    view = opened(render(with_exif(stored, orientation=orientation))["view"])

    assert view.size == (300, 600)  # portrait as the photographer held it
    assert close_to(view.getpixel((150, 50)), top)
    assert close_to(view.getpixel((150, 550)), bottom)


def test_orientation_swaps_the_edges_that_get_fitted():
    data = with_exif(photo((2000, 1000)), orientation=6)

    result = render(data)

    assert opened(result["grid"]).size == (200, 400)
    assert opened(result["view"]).size == (640, 1280)


# --- metadata -------------------------------------------------------------------------------


def test_output_carries_no_metadata_that_could_reveal_the_author():
    exif = Image.Exif()
    exif[ARTIST] = "Secret Author"
    exif[ORIENTATION] = 1
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>Secret Author</dc:creator></x:xmpmeta>'
    data = with_xmp(encode(photo((800, 600)), "JPEG", exif=exif.tobytes(), icc_profile=srgb), xmp)
    source = Image.open(io.BytesIO(data))
    assert {"exif", "icc_profile", "xmp"} <= set(source.info)  # the input really has all three

    for webp in render(data).values():
        assert b"Secret Author" not in webp
        assert not {"EXIF", "ICCP", "XMP "} & set(riff_chunks(webp))
        output = opened(webp)
        assert not {"exif", "icc_profile", "xmp"} & set(output.info)
        assert len(output.getexif()) == 0


def test_png_text_chunks_do_not_reach_the_output():
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "Secret Author")
    data = encode(photo((500, 500)), "PNG", pnginfo=text)

    for webp in render(data).values():
        assert b"Secret Author" not in webp


# --- colour modes ---------------------------------------------------------------------------


def test_transparent_areas_of_rgba_are_shown_on_white():
    image = halves((400, 200), (0, 0, 0, 0), (255, 0, 0, 255), mode="RGBA")

    grid = opened(render(encode(image, "PNG"))["grid"])

    assert grid.mode == "RGB"
    assert close_to(grid.getpixel((50, 100)), WHITE)
    assert close_to(grid.getpixel((350, 100)), RED)


def test_palette_images_with_and_without_transparency():
    palette = halves((400, 200), 0, 1, mode="P")
    palette.putpalette([0, 200, 0] + [0, 0, 255] + [0, 0, 0] * 254)
    plain = opened(render(encode(palette, "PNG"))["grid"])
    transparent = opened(render(encode(palette, "GIF", transparency=0))["grid"])

    assert plain.mode == transparent.mode == "RGB"
    assert close_to(plain.getpixel((50, 100)), (0, 200, 0))
    assert close_to(transparent.getpixel((50, 100)), WHITE)
    assert close_to(transparent.getpixel((350, 100)), BLUE)


def test_cmyk_jpeg_becomes_rgb():
    cyan = Image.new("CMYK", (300, 200), (255, 0, 0, 0))

    grid = opened(render(encode(cyan, "JPEG"))["grid"])

    assert grid.mode == "RGB"
    assert close_to(grid.getpixel((150, 100)), (0, 255, 255))


def test_grayscale_becomes_rgb_with_equal_channels():
    gray = Image.new("L", (300, 200), 90)

    red, green, blue = opened(render(encode(gray, "JPEG"))["grid"]).getpixel((150, 100))

    assert abs(red - 90) <= 6 and red == green == blue


def test_sixteen_bit_grayscale_is_scaled_not_clipped():
    deep = Image.new("I;16", (300, 200), 32768)  # mid grey on a 0..65535 scale
    data = encode(deep, "PNG")
    assert Image.open(io.BytesIO(data)).mode.startswith("I")

    pixel = opened(render(data)["grid"]).getpixel((150, 100))

    assert close_to(pixel, (128, 128, 128), tolerance=6)


def test_a_broken_colour_profile_does_not_cost_the_photo():
    data = encode(Image.new("RGB", (300, 200), (200, 40, 40)), "JPEG", icc_profile=b"not a profile" * 20)

    pixel = opened(render(data)["grid"]).getpixel((150, 100))

    assert close_to(pixel, (200, 40, 40), tolerance=12)


def test_an_srgb_profile_is_recognised_and_costs_no_conversion(monkeypatch):
    conversions = []
    monkeypatch.setattr(thumbnails.ImageCms, "applyTransform", lambda *args: conversions.append(args))
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(Image.new("RGB", (300, 200), (30, 160, 90)), "JPEG", icc_profile=srgb)

    pixel = opened(render(data)["grid"]).getpixel((150, 100))

    assert close_to(pixel, (30, 160, 90), tolerance=12)
    assert conversions == []


def profile_with_red_and_blue_swapped():
    """An RGB profile whose red primary is sRGB's blue and the reverse (it keeps sRGB's name)."""
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    (count,) = struct.unpack(">I", profile[128:132])
    entries = {bytes(profile[132 + 12 * i : 136 + 12 * i]): 132 + 12 * i for i in range(count)}
    red, blue = entries[b"rXYZ"] + 4, entries[b"bXYZ"] + 4  # offset and length of each tag
    profile[red : red + 8], profile[blue : blue + 8] = profile[blue : blue + 8], profile[red : red + 8]
    return bytes(profile)


def test_colours_are_converted_to_srgb_using_the_embedded_profile():
    data = encode(Image.new("RGB", (300, 200), RED), "PNG", icc_profile=profile_with_red_and_blue_swapped())

    pixel = opened(render(data)["grid"]).getpixel((150, 100))

    assert close_to(pixel, BLUE, tolerance=12)


# --- bad input ------------------------------------------------------------------------------


def test_empty_bytes():
    with pytest.raises(ThumbnailError, match=r"^empty file \(0 bytes\)$"):
        render(b"")


def test_an_html_error_page_is_not_an_image():
    page = b"<!DOCTYPE html>\n<html><head><title>429 Too Many Requests</title></head></html>"

    with pytest.raises(ThumbnailError, match=r"^not an image \(text/html\)$"):
        render(page)


def test_plain_text_is_not_an_image_even_when_a_character_straddles_the_sniffed_part():
    text = ("a" * 1023 + "Ω" * 300).encode("utf-8")  # "Ω" is two bytes: one falls at byte 1024

    with pytest.raises(ThumbnailError, match=r"^not an image \(text/plain\)$"):
        render(text)


def test_random_bytes_are_not_an_image():
    with pytest.raises(ThumbnailError, match=r"^not an image \(application/octet-stream\)$"):
        render(bytes(range(256)) * 4)


def test_svg_and_bmp_are_named_as_unsupported_formats():
    with pytest.raises(ThumbnailError, match=r"^unsupported image format \(image/svg\+xml\)$"):
        render(b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>')
    with pytest.raises(ThumbnailError, match=r"^unsupported image format \(image/bmp\)$"):
        render(encode(Image.new("RGB", (10, 10)), "BMP"))


def test_a_jpeg_header_followed_by_garbage_is_corrupt():
    with pytest.raises(ThumbnailError, match=r"^corrupt JPEG: "):
        render(b"\xff\xd8\xff\xe0" + b"\x13\x37" * 500)


def test_a_truncated_jpeg_is_corrupt_not_a_crash():
    data = encode(photo((1200, 800)), "JPEG", quality=90)

    with pytest.raises(ThumbnailError, match=r"^corrupt JPEG: .*truncated"):
        render(data[: len(data) * 2 // 3])


def test_a_truncated_png_is_corrupt_not_a_crash():
    data = encode(photo((600, 400)), "PNG")

    with pytest.raises(ThumbnailError, match=r"^corrupt PNG: "):
        render(data[: len(data) // 2])


@pytest.mark.parametrize(
    "width, height",
    [
        (8000, 8000),  # 64 Mpx: Pillow would decode it, our cap refuses
        (100_000, 100_000),  # 10 Gpx: Pillow itself refuses at open
    ],
)
def test_decompression_bombs_are_refused_before_decoding(width, height):
    bomb = png_declaring(width, height)
    assert len(bomb) < 200

    with pytest.raises(ThumbnailError, match=r"^image too large to decode safely \("):
        render(bomb)


@pytest.mark.parametrize("action", ["ignore", "error"])
def test_bombs_in_pillows_warning_range_are_refused_whatever_the_warning_filter(action):
    bomb = png_declaring(10_000, 10_000)  # 100 Mpx: Pillow only warns

    with warnings.catch_warnings():
        warnings.simplefilter(action, Image.DecompressionBombWarning)
        with pytest.raises(ThumbnailError, match=r"^image too large to decode safely"):
            render(bomb)


def test_pillow_global_limits_are_left_alone():
    before = Image.MAX_IMAGE_PIXELS, list(warnings.filters)

    for data in (png_declaring(8000, 8000), png_declaring(100_000, 100_000), encode(photo((50, 50)))):
        try:
            render(data)
        except ThumbnailError:
            pass

    assert (Image.MAX_IMAGE_PIXELS, list(warnings.filters)) == before


def test_the_message_of_a_bomb_says_how_big_it_is():
    with pytest.raises(ThumbnailError) as caught:
        render(png_declaring(8000, 8000))

    assert "64,000,000 pixels" in str(caught.value)


# --- files ----------------------------------------------------------------------------------


def test_thumbnail_path_shards_by_the_first_two_characters(tmp_path):
    assert thumbnail_path(tmp_path, "abcdef123", "grid") == tmp_path / "ab" / "abcdef123-grid.webp"
    assert thumbnail_path(str(tmp_path), "z", "view") == tmp_path / "z" / "z-view.webp"


@pytest.mark.parametrize("key", ["../x", "", "ABC", "a/b", "a.b", "ab-cd", "x" * 101, None, 42, "é1"])
def test_keys_that_are_not_plain_tokens_are_refused(tmp_path, key):
    with pytest.raises(ValueError, match="key"):
        thumbnail_path(tmp_path, key, "grid")
    with pytest.raises(ValueError, match="key"):
        remove_thumbnails(tmp_path, key)


def test_size_names_are_validated_too(tmp_path):
    with pytest.raises(ValueError, match="size"):
        thumbnail_path(tmp_path, "abc", "../grid")


def test_write_thumbnails_writes_each_size_and_nothing_else(tmp_path):
    paths = write_thumbnails(tmp_path, "abc123", encode(photo((1600, 1200))))

    assert paths == {size: thumbnail_path(tmp_path, "abc123", size) for size in ("grid", "view")}
    assert sorted(p.name for p in (tmp_path / "ab").iterdir()) == ["abc123-grid.webp", "abc123-view.webp"]
    assert opened(paths["grid"].read_bytes()).size == (400, 300)
    assert stat.S_IMODE(os.stat(paths["view"]).st_mode) == 0o644


def test_write_thumbnails_replaces_an_older_version(tmp_path):
    write_thumbnails(tmp_path, "abc", encode(photo((800, 400))))

    paths = write_thumbnails(tmp_path, "abc", encode(photo((400, 800))))

    assert opened(paths["grid"].read_bytes()).size == (200, 400)
    assert len(list((tmp_path / "ab").iterdir())) == 2


def test_a_bad_image_writes_nothing(tmp_path):
    with pytest.raises(ThumbnailError):
        write_thumbnails(tmp_path, "abc", b"<html>gone</html>")

    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_no_temp_file(tmp_path, monkeypatch):
    def disk_full(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(thumbnails.os, "replace", disk_full)

    with pytest.raises(OSError, match="No space"):
        write_thumbnails(tmp_path, "abc", encode(photo((300, 300))))

    assert list((tmp_path / "ab").iterdir()) == []


def test_remove_thumbnails_removes_one_key_only(tmp_path):
    data = encode(photo((300, 300)))
    write_thumbnails(tmp_path, "abc", data)
    write_thumbnails(tmp_path, "abcd", data)
    leftover = tmp_path / "ab" / ".abc-grid-x1y2.tmp"  # as a crash during a write would leave
    leftover.write_bytes(b"half")

    remove_thumbnails(tmp_path, "abc")

    assert sorted(p.name for p in (tmp_path / "ab").iterdir()) == ["abcd-grid.webp", "abcd-view.webp"]


def test_removing_what_does_not_exist_is_fine(tmp_path):
    remove_thumbnails(tmp_path, "nothinghere")
