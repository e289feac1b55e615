"""The two app icons Teams requires, drawn with the standard library (zlib + struct).

``color.png`` is 192×192, full colour; ``outline.png`` is 32×32, white on transparent. The
picture: four people (dots) around a table (ring): a core group.
"""

from __future__ import annotations

import math
import struct
import zlib

Pixel = tuple[int, int, int, int]

ACCENT = (0x2B, 0x6C, 0x7A)  # calm teal, also the manifest's accentColor
WHITE = (255, 255, 255)


def png(width: int, height: int, pixel: list[list[Pixel]]) -> bytes:
    """Encode RGBA rows as a PNG."""
    raw = b"".join(b"\x00" + b"".join(struct.pack("4B", *p) for p in row) for row in pixel)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _group_shape(size: int) -> list[list[bool]]:
    """True where the white picture is: a ring and four dots around it."""
    c = (size - 1) / 2
    ring_r, ring_w = size * 0.20, max(1.0, size * 0.055)
    dot_r, dot_d = size * 0.095, size * 0.34
    dots = [
        (c + dot_d * math.cos(a), c + dot_d * math.sin(a)) for a in (0.785, 2.356, 3.927, 5.498)
    ]
    grid = []
    for y in range(size):
        row = []
        for x in range(size):
            on_ring = abs(math.hypot(x - c, y - c) - ring_r) <= ring_w / 2
            on_dot = any(math.hypot(x - dx, y - dy) <= dot_r for dx, dy in dots)
            row.append(on_ring or on_dot)
        grid.append(row)
    return grid


def color_icon() -> bytes:
    size = 192
    shape = _group_shape(size)
    white: Pixel = (*WHITE, 255)
    accent: Pixel = (*ACCENT, 255)
    return png(size, size, [[white if on else accent for on in row] for row in shape])


def outline_icon() -> bytes:
    size = 32
    shape = _group_shape(size)
    white: Pixel = (*WHITE, 255)
    clear: Pixel = (0, 0, 0, 0)
    return png(size, size, [[white if on else clear for on in row] for row in shape])


def accent_hex() -> str:
    return "#{:02X}{:02X}{:02X}".format(*ACCENT)
