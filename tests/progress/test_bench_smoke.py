"""Smoke run of bench/progress.py --quick: the whole worker → Redis → API → SSE path with
real processes (redis-server, `bcrao serve`, a publisher process), a few clients, every event."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.fixtures import REDIS_SERVER

pytestmark = [pytest.mark.slow, pytest.mark.redis]


def test_quick_run_delivers_every_event_to_every_client():
    if not Path(REDIS_SERVER).exists():
        pytest.skip("redis-server is not installed")
    from bench import progress as bench

    results = bench.run(["--quick"])

    latency = results["latency"]
    assert latency["check"] == {
        "clients": 1,
        "complete": 1,
        "deliveries": 21,
        "expected_deliveries": 21,
        "first_bad": None,
    }
    assert latency["sse_ms"]["n"] == 21 and latency["poll_ms"]["n"] == 21
    for phase, clients in (("fanout_small", 2), ("fanout_large", 5)):
        check = results[phase]["check"]
        assert check["clients"] == clients and check["complete"] == clients, check
        assert check["deliveries"] == check["expected_deliveries"] == clients * 21
        assert results[phase]["latency_ms"]["n"] == clients * 21
        # Live events come over the API's one subscription: stream reads do not follow them.
        assert results[phase]["reads_per_event"] <= 1.1
    assert bench.all_delivered(results)
    assert "every client got every event, no gaps: ok" in bench.report(results)
