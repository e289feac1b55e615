"""A small run of each benchmark in bench/ (the full runs are not tests: see bench/README.md).

No timing is asserted; what is checked is what the benchmarks' figures rest on: two real
``serve`` instances on one database lose and repeat no answer, the record reaches every
destination through a rate-limiting fake Slack, and ``serve`` starts and answers /healthz.
"""

from __future__ import annotations

import argparse

import pytest

from bench import coldstart, fanout, scale
from bench.common import throwaway_database
from tests.fakes.slack_api import FakeSlack


async def test_clicks_spread_over_two_instances_are_stored_and_followed_up_once(
    pg_url: str,
) -> None:
    args = argparse.Namespace(
        db="postgres",
        instances="2",
        groups=4,
        clicks=20,
        rounds=1,
        warmup=4,
        concurrency=10,
        follow_up_timeout=60.0,
        settle=0.5,
        profile="",
        py_spy="",
        server_src="",
    )
    facts: list[dict[str, int]] = []
    await scale.run_scaled(args, facts)
    [counted] = facts
    assert counted["sent"] == 24
    assert counted["stored"] == counted["pairs"] == 24  # no answer lost or stored twice
    assert counted["not_200"] == counted["missing"] == counted["duplicated"] == 0
    assert counted["apologies"] == counted["refused"] == 0


@pytest.mark.parametrize("platform", ["slack", "teams"])
async def test_the_record_reaches_every_member_through_a_rate_limited_platform(
    platform: str,
) -> None:
    result = await fanout.one_run(platform, "sqlite", 4)
    # The channel's thread, four members, and the facilitator's debrief invitation.
    assert result["destinations"] == 4 + 2
    assert result["violations"] == 0


async def test_serve_starts_and_answers_healthz() -> None:
    fake = await FakeSlack().start()
    try:
        async with throwaway_database("sqlite") as url:
            timings = await coldstart.serve_times(url, fake.api_url, 1)
    finally:
        await fake.stop()
    assert len(timings["ready"]) == 1 and timings["ready"][0] > 0
    assert 20 < timings["rss"][0] < 400  # a plausible process size, read from /proc
