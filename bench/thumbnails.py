"""How fast is wle.thumbnails.render() compared with plain Pillow?

Generates photo-like JPEGs at a standard Commons width (1920 px by default) in a temporary
directory, then times, per image:

- render(): JPEG draft decoding (libjpeg scales while decoding), reduce-then-LANCZOS, each
  smaller size made from the bigger one, plus orientation, sRGB and metadata stripping;
- a plain Pillow baseline: open, decode at full size, resize with LANCZOS from the full
  image for each size, save. It decodes once per image and uses the same WebP settings,
  so the difference comes from decoding and resizing, not from the encoder.

Not a test: run it by hand, `python bench/thumbnails.py [--count 24] [--width 1920]`.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageFilter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wle.thumbnails import SIZES, WEBP_METHOD, WEBP_QUALITY, render  # noqa: E402


def make_photos(directory: Path, count: int, width: int) -> list[Path]:
    """Photo-like JPEGs: fractal detail plus sensor-like noise, half landscape, half portrait."""
    paths = []
    for number in range(count):
        height = width * 2 // 3 if number % 2 == 0 else width * 3 // 2
        zoom = 1 + number / count
        fractal = Image.effect_mandelbrot(
            (width, height), (-2 / zoom, -1.2 / zoom, 1 / zoom, 1.2 / zoom), 80
        ).convert("RGB")
        noise = Image.effect_noise((width, height), 50).convert("RGB")
        image = Image.blend(fractal, noise, 0.25).filter(ImageFilter.GaussianBlur(0.8))
        path = directory / f"photo-{number:02d}.jpg"
        image.save(path, "JPEG", quality=90)
        paths.append(path)
    return paths


def plain_pillow(data: bytes, sizes: dict[str, int]) -> dict[str, bytes]:
    """The baseline: what one writes without thinking about speed."""
    image = Image.open(io.BytesIO(data))
    image.load()
    rendered = {}
    for name, edge in sizes.items():
        scale = min(1.0, edge / max(image.size))
        target = (round(image.width * scale), round(image.height * scale))
        buffer = io.BytesIO()
        image.resize(target, Image.Resampling.LANCZOS).save(
            buffer, "WEBP", quality=WEBP_QUALITY, method=WEBP_METHOD
        )
        rendered[name] = buffer.getvalue()
    return rendered


def time_each(function, inputs: list[bytes], sizes: dict[str, int]) -> list[float]:
    """Milliseconds per image, after one warm-up call."""
    function(inputs[0], sizes)
    timings = []
    for data in inputs:
        started = time.perf_counter()
        function(data, sizes)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=24, help="number of test images (default 24)")
    parser.add_argument("--width", type=int, default=1920, help="their width in px (default 1920)")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as directory:
        paths = make_photos(Path(directory), arguments.count, arguments.width)
        inputs = [path.read_bytes() for path in paths]

    mean_kb = statistics.mean(len(data) for data in inputs) / 1024
    print(f"{len(inputs)} JPEGs {arguments.width} px wide (half portrait), {mean_kb:.0f} KB on average")
    print(f"WebP quality {WEBP_QUALITY}, method {WEBP_METHOD}\n")
    print(f"{'sizes':<22}{'method':<14}{'median ms':>10}{'p90 ms':>9}{'images/s':>10}{'speed-up':>10}")

    size_sets = [dict(SIZES)] + [{name: edge} for name, edge in SIZES.items()]
    for sizes in size_sets:
        label = " + ".join(f"{name} {edge}" for name, edge in sizes.items())
        baseline = time_each(plain_pillow, inputs, sizes)
        ours = time_each(render, inputs, sizes)
        for method, timings in (("plain Pillow", baseline), ("render()", ours)):
            median = statistics.median(timings)
            p90 = statistics.quantiles(timings, n=10)[8]
            speed_up = statistics.median(baseline) / median
            print(
                f"{label:<22}{method:<14}{median:>10.1f}{p90:>9.1f}{1000 / median:>10.1f}{speed_up:>9.2f}x"
            )


if __name__ == "__main__":
    main()
