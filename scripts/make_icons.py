#!/usr/bin/env python3
"""Draws the app's icon (equaliser bars on the page's accent colour) into www/: the SVG
favicon, the PNGs the web app manifest names (192 and 512 px, and a maskable 512 px one
whose bars stay inside the safe zone), and favicon.ico (16, 32 and 48 px PNGs).

Standard library only (zlib, struct). The files it writes are committed; run it again
after changing the drawing:  python3 scripts/make_icons.py [WWW_DIR]
"""

import os
import struct
import sys
import zlib

ACCENT = (0x34, 0x54, 0xD1)   # --gc-accent of www/style.css (light scheme)
BARS_COLOUR = (0xFF, 0xFF, 0xFF)
CORNER = 0.22                 # corner radius of the "any" icon, as a share of its side
# Each bar: (centre x, height), in units of the icon's side; all bars centred vertically.
BARS = [(0.24, 0.30), (0.37, 0.52), (0.50, 0.66), (0.63, 0.44), (0.76, 0.26)]
BAR_WIDTH = 0.085
SAMPLES = 4                   # supersampling per axis, for smooth edges


def in_rounded_rect(x, y, x0, y0, x1, y1, r):
    """Whether (x, y) lies in the rectangle (x0, y0)-(x1, y1) with corners of radius r."""
    if x < x0 or x > x1 or y < y0 or y > y1:
        return False
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r


def bar_rects(scale):
    """The bars as rectangles (x0, y0, x1, y1, radius), shrunk by `scale` about the centre."""
    out = []
    for cx, height in BARS:
        w, h = BAR_WIDTH * scale, height * scale
        x = 0.5 + (cx - 0.5) * scale
        out.append((x - w / 2, 0.5 - h / 2, x + w / 2, 0.5 + h / 2, w / 2))
    return out


def colour_at(x, y, maskable):
    """The icon's colour at (x, y) in [0, 1]², as RGBA."""
    scale = 0.72 if maskable else 1.0
    for x0, y0, x1, y1, r in bar_rects(scale):
        if in_rounded_rect(x, y, x0, y0, x1, y1, r):
            return BARS_COLOUR + (255,)
    if maskable or in_rounded_rect(x, y, 0, 0, 1, 1, CORNER):
        return ACCENT + (255,)
    return (0, 0, 0, 0)


def render(size, maskable=False):
    """The icon at `size` px: rows of RGBA bytes, each pixel the mean of its samples."""
    rows = []
    for py in range(size):
        row = bytearray()
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    c = colour_at((px + (sx + 0.5) / SAMPLES) / size, (py + (sy + 0.5) / SAMPLES) / size, maskable)
                    alpha = c[3]
                    for i in range(3):
                        acc[i] += c[i] * alpha
                    acc[3] += alpha
            alpha = acc[3]
            rgb = [round(acc[i] / alpha) if alpha else 0 for i in range(3)]
            row += bytes(rgb + [round(alpha / SAMPLES ** 2)])
        rows.append(bytes(row))
    return rows


def png(rows):
    """A PNG file (8-bit RGBA) of `rows`."""
    height, width = len(rows), len(rows[0]) // 4

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + row for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def ico(images):
    """An ICO file holding PNG `images` [(size, bytes)] (every current browser reads these)."""
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries, data = b"", b""
    for size, body in images:
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(body), offset + len(data))
        data += body
    return header + entries + data


def svg():
    """The same drawing as SVG, on a 100 × 100 grid."""
    bars = "".join(
        f'<rect x="{x0 * 100:.2f}" y="{y0 * 100:.2f}" width="{(x1 - x0) * 100:.2f}" height="{(y1 - y0) * 100:.2f}" rx="{r * 100:.2f}"/>'
        for x0, y0, x1, y1, r in bar_rects(1.0))
    colour = "#%02x%02x%02x" % ACCENT
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
            f'<rect width="100" height="100" rx="{CORNER * 100:.0f}" fill="{colour}"/>'
            f'<g fill="#fff">{bars}</g></svg>\n')


def main():
    www = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "www")
    os.makedirs(os.path.join(www, "icons"), exist_ok=True)
    outputs = {
        "favicon.svg": svg().encode(),
        "icons/icon-192.png": png(render(192)),
        "icons/icon-512.png": png(render(512)),
        "icons/maskable-512.png": png(render(512, maskable=True)),
        "favicon.ico": ico([(s, png(render(s))) for s in (16, 32, 48)]),
    }
    for name, data in outputs.items():
        with open(os.path.join(www, name), "wb") as f:
            f.write(data)
        print(f"wrote www/{name} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
