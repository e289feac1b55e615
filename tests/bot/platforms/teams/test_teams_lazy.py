"""A server without Teams credentials starts without importing the Agents SDK (a faster start),
and its Teams route still says why Teams gets no answer."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import repo_root

PROBE = """
import sys
from bot.bootstrap import build_runtime
from bot.server import build_web_app
from bot.settings import Settings

settings = Settings(_env_file=None, database_url="sqlite:///:memory:",
                    slack_bot_token="xoxb-t", slack_signing_secret="s")
app = build_web_app(build_runtime(settings, platforms=True))
routes = sorted(r.resource.canonical for r in app.router.routes() if r.method == "POST")
print("/api/messages" in routes, any(m.startswith("microsoft_agents") for m in sys.modules))
"""


def test_a_slack_only_server_does_not_load_the_teams_sdk() -> None:
    done = subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", PROBE],
        cwd=repo_root(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.split() == ["True", "False"]  # route mounted, SDK not imported
