"""``coregroup teams-package`` builds a package Teams accepts: manifest, commands, valid icons."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

from typer.testing import CliRunner

from bot.cli import app

APP_ID = "11111111-2222-3333-4444-555555555555"


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGBA rows of an 8-bit RGBA PNG (filter 0 rows, as ours are)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            assert (depth, colour) == (8, 6)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * 4 + 1
    rows = [raw[i * stride + 1 : (i + 1) * stride] for i in range(height)]
    return width, height, rows


def build(tmp_path: Path, *args: str) -> zipfile.ZipFile:
    out = tmp_path / "teams.zip"
    result = CliRunner().invoke(app, ["teams-package", "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    return zipfile.ZipFile(io.BytesIO(out.read_bytes()))


def test_the_package_holds_a_manifest_for_this_bot_with_the_reflect_commands(
    tmp_path: Path,
) -> None:
    zf = build(tmp_path, "--app-id", APP_ID, "--version", "1.2.3")
    assert sorted(zf.namelist()) == ["color.png", "manifest.json", "outline.png"]
    manifest = json.loads(zf.read("manifest.json"))
    assert float(manifest["manifestVersion"]) >= 1.17
    assert manifest["id"] == APP_ID and manifest["version"] == "1.2.3"
    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert set(bot["scopes"]) == {"team", "personal", "groupChat"}
    team_commands = next(c for c in bot["commandLists"] if "team" in c["scopes"])["commands"]
    titles = [c["title"] for c in team_commands]
    assert titles == ["reflect", "reflect setup", "reflect status", "reflect close", "reflect help"]
    for listing in bot["commandLists"]:
        assert len(listing["commands"]) <= 10
        for command in listing["commands"]:
            assert len(command["title"]) <= 32 and len(command["description"]) <= 128
    assert len(manifest["name"]["short"]) <= 30
    assert len(manifest["description"]["short"]) <= 80
    assert all(
        manifest["developer"][k].startswith("https://")
        for k in ("websiteUrl", "privacyUrl", "termsOfUseUrl")
    )


def test_icons_are_the_sizes_teams_requires_and_the_outline_is_white_on_transparent(
    tmp_path: Path,
) -> None:
    zf = build(tmp_path, "--app-id", APP_ID)
    width, height, _rows = decode_png(zf.read("color.png"))
    assert (width, height) == (192, 192)
    width, height, rows = decode_png(zf.read("outline.png"))
    assert (width, height) == (32, 32)
    pixels = [row[i : i + 4] for row in rows for i in range(0, len(row), 4)]
    assert all(p[3] == 0 or p[:3] == b"\xff\xff\xff" for p in pixels)
    assert any(p[3] == 0 for p in pixels) and any(p[3] == 255 for p in pixels)


def test_without_a_valid_app_id_nothing_is_written_and_the_reason_is_given(tmp_path: Path) -> None:
    out = tmp_path / "teams.zip"
    result = CliRunner().invoke(app, ["teams-package", "--out", str(out), "--app-id", "my-bot"])
    assert result.exit_code == 2
    assert "GUID" in result.output
    assert not out.exists()
