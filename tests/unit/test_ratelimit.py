"""Token buckets and the sustained-excess rule behind the per-socket limits."""

from __future__ import annotations

import time

from roomtone.ratelimit import DebtLimit, KeyedBuckets, SustainedLimit, TokenBucket


def test_bucket_allows_burst_then_refills():
    bucket = TokenBucket(rate=10, burst=5)
    now = time.monotonic()
    assert all(bucket.take(1, now) for _ in range(5))
    assert not bucket.take(1, now)
    assert bucket.take(1, now + 0.11)


def test_sustained_excess_closes_only_after_patience():
    limit = SustainedLimit(rate=1, burst=1, patience=0.2)
    assert limit.check() == "ok"
    assert limit.check() == "excess"
    assert limit.should_warn() and not limit.should_warn()
    verdicts = []
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        verdicts.append(limit.check())
    assert "close" in verdicts
    assert verdicts.index("close") > 0  # excess came first, for a while


def test_pause_starts_a_new_episode():
    limit = SustainedLimit(rate=1000, burst=1, patience=0.3)
    limit.check()
    assert limit.check() == "excess"
    time.sleep(1.1)  # a calm second: the next excess is a new episode
    limit.check()
    limit.check()
    assert limit.check() == "excess"


def test_keyed_buckets_evict_oldest():
    buckets = KeyedBuckets(rate=0.001, burst=1, capacity=2)
    assert buckets.take("a") and not buckets.take("a")
    assert buckets.take("b") and buckets.take("c")  # evicts "a"
    assert buckets.take("a")  # a fresh bucket


def test_debt_limit_lets_bursts_through_but_closes_sustained_excess():
    limit = DebtLimit(rate=1000, burst=1000, patience=2)
    assert limit.check(1000) == "ok"
    assert limit.check(1000) == "excess"  # forwarded, but in debt
    assert limit.check(900) == "excess"
    assert limit.check(200) == "close"  # debt beyond 2 s worth
