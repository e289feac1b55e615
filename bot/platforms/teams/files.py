"""Files in a Teams personal chat through the file consent flow.

A bot cannot just attach a file in Teams: it sends a ``FileConsentCard``; when the person
accepts, Teams sends a ``fileConsent/invoke`` with an upload URL in their OneDrive; the bot PUTs
the bytes there and posts a file info card, which shows the file in the chat. The card carries
ids only (``record:<session id>``); the file is produced again from them on acceptance, so no
file and no state waits in memory or in the database, and a restart loses nothing.

The upload URL comes from an activity, so it is checked like any outbound URL: OneDrive /
SharePoint hosts over https only (plus the hosts an operator lists for testing), and it never
receives the Bot Framework token.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.transport import DeliveryFailed
from handlers.base.errors import CoreGroupError

log = logging.getLogger(__name__)

CONSENT_CARD = "application/vnd.microsoft.teams.card.file.consent"
FILE_INFO_CARD = "application/vnd.microsoft.teams.card.file.info"
CONSENT_INVOKE = "fileConsent/invoke"
UPLOAD_HOST_SUFFIXES = (  # where Teams puts a personal chat's files: the user's OneDrive
    ".sharepoint.com",
    ".sharepoint.us",
    ".sharepoint-mil.us",
    ".sharepoint.de",
)
REF_KEY = "ref"


class UploadRefused(Exception):
    """An upload URL the bot must not call (kind is safe to log)."""


def consent_activity(filename: str, size: int, description: str, ref: str) -> dict[str, Any]:
    """The message offering a file: Teams shows Accept / Decline, and will ask where to save."""
    context = {REF_KEY: ref}
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": CONSENT_CARD,
                "name": filename,
                "content": {
                    "description": description[:1000],
                    "sizeInBytes": size,
                    "acceptContext": context,
                    "declineContext": context,
                },
            }
        ],
    }


def file_info_activity(upload: UploadInfo) -> dict[str, Any]:
    """The message that shows the uploaded file in the chat."""
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": FILE_INFO_CARD,
                "contentUrl": upload.content_url,
                "name": upload.name,
                "content": {"uniqueId": upload.unique_id, "fileType": upload.file_type},
            }
        ],
    }


@dataclass(frozen=True)
class UploadInfo:
    upload_url: str
    content_url: str
    name: str
    unique_id: str
    file_type: str


@dataclass(frozen=True)
class Consent:
    """What a ``fileConsent/invoke`` says: accepted or not, which file, and where to put it."""

    accepted: bool
    ref: str
    upload: UploadInfo | None


def read_consent(value: Any) -> Consent | None:
    """The invoke's value, or None when it is not a consent answer the bot can read."""
    if not isinstance(value, dict) or value.get("type") != "fileUpload":
        return None
    context = value.get("context")
    ref = context.get(REF_KEY) if isinstance(context, dict) else None
    action = value.get("action")
    if not isinstance(ref, str) or action not in ("accept", "decline"):
        return None
    info = value.get("uploadInfo")
    upload = None
    if action == "accept" and isinstance(info, dict):
        fields = ("uploadUrl", "contentUrl", "name", "uniqueId", "fileType")
        if all(isinstance(info.get(k), str) and info.get(k) for k in fields):
            upload = UploadInfo(*(str(info[k]) for k in fields))
    return Consent(accepted=action == "accept", ref=ref, upload=upload)


@dataclass(frozen=True)
class UploadHosts:
    """OneDrive / SharePoint over https, plus ``extra`` hosts (``host`` or ``host:port``)."""

    extra: tuple[str, ...] = ()

    @classmethod
    def from_setting(cls, value: str | None) -> UploadHosts:
        return cls(tuple(e.strip().lower() for e in (value or "").split(",") if e.strip()))

    def check(self, url: str) -> None:
        try:
            parts = urlsplit(url)
            host, port = (parts.hostname or ""), parts.port
        except ValueError as exc:
            raise UploadRefused("malformed_upload_url") from exc
        if not host or parts.username or parts.password or parts.fragment:
            raise UploadRefused("malformed_upload_url")
        named = f"{host}:{port}" if port else host
        if parts.scheme in ("http", "https") and named in self.extra:
            return
        if parts.scheme != "https" or port not in (None, 443):
            raise UploadRefused("not_https")
        if not host.endswith(UPLOAD_HOST_SUFFIXES):
            raise UploadRefused("host_not_allowed")


UPLOAD_SECONDS = 60.0


async def put_file(url: str, content: bytes) -> None:
    """Upload ``content`` in one request, as the upload session accepts for small files."""
    headers = {
        "Content-Length": str(len(content)),
        "Content-Range": f"bytes 0-{len(content) - 1}/{len(content)}",
    }
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=UPLOAD_SECONDS)) as http,
            http.put(url, data=content, headers=headers) as resp,
        ):
            if resp.status >= 300:
                raise DeliveryFailed(f"teams file upload answered {resp.status}")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise DeliveryFailed(f"teams file upload unreachable ({type(exc).__name__})") from exc


def refusal_reason(exc: Exception) -> str:
    """Why an accepted file could not be delivered, safe to log (no content, no URL)."""
    if isinstance(exc, UploadRefused):
        return f"upload url refused ({exc})"
    if isinstance(exc, DeliveryFailed):
        return exc.reason
    if isinstance(exc, CoreGroupError):
        return f"record not available ({type(exc).__name__})"
    return type(exc).__name__
