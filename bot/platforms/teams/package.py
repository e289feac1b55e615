"""The Teams app package: manifest.json plus the two icons, zipped, ready to upload."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any

from bot.platforms.teams import icons

ASSETS = Path(__file__).with_name("assets")
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class PackageError(ValueError):
    """The package cannot be built as asked (message is shown to the operator)."""


def manifest(app_id: str, *, version: str | None = None, website: str | None = None) -> dict:
    """The manifest for this bot registration, from the template in ``assets/``."""
    if not GUID.match(app_id or ""):
        raise PackageError(
            "The Microsoft app id must be a GUID (the Azure Bot's 'Microsoft App ID'). "
            "Set MICROSOFT_APP_ID or pass --app-id."
        )
    data: dict[str, Any] = json.loads((ASSETS / "manifest.template.json").read_text("utf-8"))
    data["id"] = app_id
    data["bots"][0]["botId"] = app_id
    data["accentColor"] = icons.accent_hex()
    if version:
        if not re.fullmatch(r"\d+\.\d+\.\d+", version):
            raise PackageError("The version must look like 1.2.3.")
        data["version"] = version
    if website:
        if not website.startswith("https://"):
            raise PackageError("The website must be an https:// address.")
        base = website.rstrip("/")
        data["developer"].update(
            websiteUrl=base, privacyUrl=f"{base}/privacy", termsOfUseUrl=f"{base}/terms"
        )
    return data


def icon_files() -> dict[str, bytes]:
    """The shipped icons (regenerated from code if the files are missing)."""
    out = {}
    for name, draw in (("color.png", icons.color_icon), ("outline.png", icons.outline_icon)):
        path = ASSETS / name
        out[name] = path.read_bytes() if path.exists() else draw()
    return out


def build(app_id: str, *, version: str | None = None, website: str | None = None) -> bytes:
    """The zip Teams accepts: manifest.json, color.png and outline.png at its root."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        body = json.dumps(manifest(app_id, version=version, website=website), indent=2)
        zf.writestr("manifest.json", body)
        for name, data in icon_files().items():
            zf.writestr(name, data)
    return buffer.getvalue()
