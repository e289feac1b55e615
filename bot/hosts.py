"""Host allowlist entries as an operator writes them in a setting: ``host``, ``*.domain`` or
``host:port``, comma separated.

Settings check them at start-up and the Teams adapter matches URLs against them, so the parsing
lives here rather than in one platform.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"https": 443, "http": 80}


@dataclass(frozen=True)
class HostRule:
    pattern: str  # "host" or "*.domain"
    port: int | None  # None: the scheme's default port

    def matches(self, host: str, port: int | None, scheme: str) -> bool:
        if self.pattern.startswith("*."):
            if not host.endswith(self.pattern[1:]):
                return False
        elif host != self.pattern:
            return False
        wanted = self.port if self.port is not None else DEFAULT_PORTS[scheme]
        return (port if port is not None else DEFAULT_PORTS[scheme]) == wanted


def host_rule(entry: str, setting: str) -> HostRule:
    """One entry; a ``ValueError`` names the setting and the entry that is not a host."""
    parts = urlsplit("//" + entry.strip().lower())
    if not parts.hostname or parts.path or parts.query or parts.username:
        raise ValueError(f"{setting}: {entry!r} is not a host or host:port")
    return HostRule(parts.hostname, parts.port)


def host_rules(value: str | None, setting: str) -> tuple[HostRule, ...]:
    """Every comma-separated entry of a setting (none when it is empty)."""
    entries = [e for e in (value or "").split(",") if e.strip()]
    return tuple(host_rule(e, setting) for e in entries)
