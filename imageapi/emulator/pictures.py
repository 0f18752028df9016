"""The emulator's pictures: deterministic, prompt-seeded, cheap to draw and encode.

Nothing here pretends to be art. A picture must only be (a) exactly the size and format
asked for, (b) visibly different for different prompts and indexes, (c) identical for
identical requests, and (d) for edits, faithful to the input outside the edited area.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import random
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence

from PIL import Image, ImageChops, ImageDraw, ImageFont, ImageOps

from .faults import FAULT_MARKER

Colour = tuple[int, int, int]

CAPTION_WORDS = 6
CAPTION_CHARS = 48
PNG_COMPRESS_LEVEL = 1  # speed over size: a 1024x1024 PNG encodes in tens of ms
RESTYLE_TINT_STRENGTH = 0.35
# Encoded pictures kept for identical requests (a PNG of 1024x1024 costs tens of ms of CPU;
# a worker with 1,000 calls in flight against the emulator must not spend its time here).
ENCODED_CACHE_BYTES = 256 * 1024 * 1024


def seeded_random(prompt: str, index: int, purpose: str) -> random.Random:
    """A generator seeded by the request's content, so equal requests draw equal pictures."""
    digest = hashlib.sha256(f"{purpose}\x00{index}\x00{prompt}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def vivid_colour(rng: random.Random) -> Colour:
    hue, saturation, value = rng.random(), rng.uniform(0.55, 1.0), rng.uniform(0.6, 1.0)
    red, green, blue = colorsys.hsv_to_rgb(hue, saturation, value)
    return round(red * 255), round(green * 255), round(blue * 255)


def caption_for(prompt: str) -> str:
    """The first words of the prompt, without fault markers (they are for the emulator)."""
    words = FAULT_MARKER.sub(" ", prompt).split()
    text = " ".join(words[:CAPTION_WORDS])
    return text if len(text) <= CAPTION_CHARS else text[: CAPTION_CHARS - 1] + "…"


def generate_picture(prompt: str, *, index: int, width: int, height: int,
                     transparent: bool = False) -> Image.Image:
    """A ``width`` x ``height`` picture: a four-corner gradient, translucent shapes and
    the prompt's first words."""
    rng = seeded_random(prompt, index, "generate")
    if transparent:
        picture = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    else:
        # Bilinear upscaling of a 2x2 image is a smooth gradient between four corner colours.
        corners = Image.new("RGB", (2, 2))
        corners.putdata([vivid_colour(rng) for _ in range(4)])
        picture = corners.resize((width, height), Image.Resampling.BILINEAR)
    _draw_shapes(picture, rng)
    draw_caption(picture, caption_for(prompt))
    return picture


def _draw_shapes(picture: Image.Image, rng: random.Random) -> None:
    width, height = picture.size
    draw = ImageDraw.Draw(picture, "RGBA")
    unit = min(width, height)
    for _ in range(rng.randint(5, 9)):
        colour = (*vivid_colour(rng), rng.randint(120, 230))
        x, y = rng.uniform(-0.1, 1.0) * width, rng.uniform(-0.1, 1.0) * height
        extent = rng.uniform(0.12, 0.45) * unit
        box = (x, y, x + extent * rng.uniform(0.6, 1.6), y + extent)
        shape = rng.choice(("ellipse", "rectangle", "triangle"))
        if shape == "ellipse":
            draw.ellipse(box, fill=colour)
        elif shape == "rectangle":
            draw.rounded_rectangle(box, radius=extent * 0.1, fill=colour)
        else:
            draw.polygon([(box[0], box[3]), ((box[0] + box[2]) / 2, box[1]), (box[2], box[3])],
                         fill=colour)


def draw_caption(picture: Image.Image, text: str) -> None:
    """The text on a dark band at the bottom-left, readable on any background."""
    if not text:
        return
    width, height = picture.size
    font = ImageFont.load_default(size=max(14, min(width, height) // 18))
    draw = ImageDraw.Draw(picture, "RGBA")
    margin = max(8, min(width, height) // 40)
    _, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    origin = (margin * 2, height - margin * 3 - (bottom - top))
    band = (margin, origin[1] - margin + top, min(width - margin, origin[0] + right + margin),
            origin[1] + bottom + margin)
    draw.rounded_rectangle(band, radius=margin, fill=(0, 0, 0, 150))
    draw.text(origin, text, font=font, fill=(255, 255, 255, 255))


def edit_picture(inputs: Sequence[Image.Image], mask: Image.Image | None, *, prompt: str,
                 index: int, width: int, height: int) -> Image.Image:
    """The first input at the output size, repainted where the mask is fully transparent,
    or restyled as a whole when there is no mask."""
    base = inputs[0]
    if base.size != (width, height):
        base = base.resize((width, height), Image.Resampling.LANCZOS)
    if mask is not None:
        return repaint_masked(base, mask, prompt=prompt, index=index)
    return restyle(base, inputs[1:], prompt=prompt, index=index)


def edit_region(mask: Image.Image, size: tuple[int, int]) -> Image.Image:
    """An "L" image, 255 where the mask's alpha is exactly 0 (the area to edit), else 0."""
    alpha = mask.convert("RGBA").getchannel("A")
    if alpha.size != size:
        alpha = alpha.resize(size, Image.Resampling.NEAREST)  # keep the 0/non-0 edge sharp
    return alpha.point(lambda value: 255 if value == 0 else 0)


def repaint_masked(base: Image.Image, mask: Image.Image, *, prompt: str, index: int) -> Image.Image:
    """Only pixels under the edit region change; every other pixel is copied as it was."""
    fill = generate_picture(prompt, index=index, width=base.width, height=base.height)
    return Image.composite(fill.convert(base.mode), base, edit_region(mask, base.size))


def restyle(base: Image.Image, others: Sequence[Image.Image], *, prompt: str,
            index: int) -> Image.Image:
    """Posterise and tint the whole image (seeded by the prompt), caption it, and show the
    other inputs as thumbnails, so a multi-image edit visibly used them."""
    rng = seeded_random(prompt, index, "restyle")
    rgb = ImageOps.posterize(base.convert("RGB"), rng.randint(2, 4))
    tint = Image.new("RGB", rgb.size, vivid_colour(rng))
    styled = Image.blend(rgb, tint, RESTYLE_TINT_STRENGTH)
    _paste_thumbnails(styled, others)
    draw_caption(styled, caption_for(prompt))
    if base.mode == "RGBA":
        styled.putalpha(base.getchannel("A"))
    return styled


def _paste_thumbnails(picture: Image.Image, others: Sequence[Image.Image]) -> None:
    edge = max(16, min(picture.size) // 6)
    margin = max(4, edge // 12)
    x = picture.width - margin
    for other in others:
        thumbnail = ImageOps.contain(other.convert("RGB"), (edge, edge))
        x -= thumbnail.width + margin
        if x < 0:
            return
        framed = ImageOps.expand(thumbnail, border=2, fill=(255, 255, 255))
        picture.paste(framed, (x - 2, margin))


def partial_previews(final: Image.Image, count: int) -> list[Image.Image]:
    """``count`` low-resolution versions of ``final``, each sharper than the one before."""
    previews = []
    for position in range(count):
        factor = min(2 ** (count - position + 2), *final.size)  # e.g. 32, 16, 8 for three
        coarse = final.reduce(factor)
        previews.append(coarse.resize(final.size, Image.Resampling.BILINEAR))
    return previews


def with_transparent_border(picture: Image.Image) -> Image.Image:
    """``picture`` with a fully transparent frame around it: a transparent background asked
    of an edit visibly has transparent pixels."""
    framed = picture.convert("RGBA")
    alpha = Image.new("L", framed.size, 0)
    margin = max(1, min(framed.size) // 16)
    alpha.paste(255, (margin, margin, framed.width - margin, framed.height - margin))
    framed.putalpha(Image.composite(framed.getchannel("A"), alpha, alpha))
    return framed


def gif_frames(picture: Image.Image, frame_count: int) -> list[Image.Image]:
    """``frame_count`` frames that pan ``picture`` once across its width: a real animation,
    cheap to draw, each frame exactly the picture's size."""
    # One palette for all frames (they share every pixel), so encoding quantizes once.
    paletted = picture.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE,
                                               dither=Image.Dither.NONE)
    step = paletted.width / frame_count
    return [ImageChops.offset(paletted, round(step * frame), 0) for frame in range(frame_count)]


def encode_gif(picture: Image.Image, *, frame_count: int, frame_duration_ms: int) -> bytes:
    """An animated GIF of ``frame_count`` frames, ``frame_duration_ms`` each, looping."""
    frames = gif_frames(picture, frame_count)
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:],
                   duration=frame_duration_ms, loop=0, optimize=False)
    return buffer.getvalue()


def decode(data: bytes) -> Image.Image:
    """Uploaded bytes as a loaded RGB or RGBA image."""
    with Image.open(io.BytesIO(data)) as image:
        has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
        return image.convert("RGBA" if has_alpha else "RGB")


def encode(picture: Image.Image, output_format: str, compression: int) -> bytes:
    """``picture`` as png, jpeg or webp; ``compression`` is the jpeg/webp quality, and
    webp at 100 is lossless (so edits stay exact outside the mask)."""
    buffer = io.BytesIO()
    if output_format == "png":
        picture.save(buffer, format="PNG", compress_level=PNG_COMPRESS_LEVEL)
    elif output_format == "jpeg":
        picture.convert("RGB").save(buffer, format="JPEG", quality=compression)
    elif output_format == "webp":
        if compression >= 100:
            picture.save(buffer, format="WEBP", lossless=True, quality=0, method=0)
        else:
            picture.save(buffer, format="WEBP", quality=compression, method=0)
    else:
        raise ValueError(f"Unsupported output format {output_format!r}.")
    return buffer.getvalue()


class EncodedCache:
    """A thread-safe LRU of encoded pictures (base64 text), bounded by their total size.

    Pictures are deterministic, so a key that names everything a picture depends on may be
    shared by every emulator in the process. When many calls for one picture arrive together
    (a burst of identical jobs), one draws it and the others wait for it."""

    def __init__(self, max_bytes: int = ENCODED_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[str, ...]] = OrderedDict()
        self._drawing: dict[Hashable, threading.Event] = {}
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, make: Callable[[], tuple[str, ...]]) -> tuple[str, ...]:
        while True:
            with self._lock:
                found = self._entries.get(key)
                if found is not None:
                    self._entries.move_to_end(key)
                    self.hits += 1
                    return found
                drawing = self._drawing.get(key)
                if drawing is None:
                    self._drawing[key] = threading.Event()
                    self.misses += 1
                    break
            drawing.wait()  # then look again: drawn (a hit), or its drawer failed (draw it here)
        try:
            value = make()
            self._keep(key, value)
            return value
        finally:
            with self._lock:
                self._drawing.pop(key).set()

    def _keep(self, key: Hashable, value: tuple[str, ...]) -> None:
        size = sum(len(text) for text in value)
        if size > self.max_bytes:
            return
        with self._lock:
            self._entries[key] = value
            self._size += size
            while self._size > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._size -= sum(len(text) for text in evicted)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._size = 0


ENCODED = EncodedCache()
