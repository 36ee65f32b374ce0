"""The application's own Redis client, for what the cache API cannot say (a
hash per ticket for presence, pipelines, key scans in tests): one connection
pool per process on ``settings.REDIS_URL`` (the cache's server), public redis-py
API only."""

from __future__ import annotations

from functools import cache

import redis
from django.conf import settings


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def redis_client() -> redis.Redis:
    """A client on the configured Redis (a test that moves REDIS_URL gets its own)."""
    return _client(settings.REDIS_URL)
