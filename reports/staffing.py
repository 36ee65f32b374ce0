"""How many people a forecast takes: pure arithmetic, no ORM, no clock.

Chat is answered live, so its staffing is a queue: **Erlang C** gives the chance
that an arriving chat must wait for an agent, and from it the share of chats
answered within a target time (the service level). Tickets wait in the queue by
design, so their staffing is plain work: the hours of handling that arrive per
hour, divided by the share of an agent's time spent handling (occupancy).

Units: arrivals per hour, times in seconds; traffic A in Erlangs (arrival rate ×
handle time, in the same unit of time): the number of agents kept busy on average.
"""

from __future__ import annotations

import math

# A goal or an occupancy is a share in (0, 1]; a figure within this of a whole
# number of agents is that number (4.25 h / 0.85 is 5.000000000000001 in floats).
_ROUNDING = 1e-9


def erlang_c(*, agents: int, traffic: float) -> float:
    """The probability that an arriving chat must wait, with ``agents`` agents and
    ``traffic`` Erlangs offered; 1.0 when ``agents <= traffic`` (the queue never
    empties).

    Computed through Erlang B, by its recursion B(0) = 1,
    B(n) = A·B(n−1) / (n + A·B(n−1)), which stays within [0, 1] at every step
    (no factorials, no powers), then C = N·B / (N − A·(1 − B))."""
    if traffic < 0:
        raise ValueError("traffic must not be negative")
    if agents <= traffic:
        return 1.0
    blocking = 1.0
    for n in range(1, agents + 1):
        blocking = traffic * blocking / (n + traffic * blocking)
    return agents * blocking / (agents - traffic * (1 - blocking))


def traffic_offered(*, arrivals_per_hour: float, handle_seconds: float) -> float:
    """The traffic in Erlangs: arrivals per hour × handle time in hours."""
    return arrivals_per_hour * handle_seconds / 3600


def service_level(*, agents: int, arrivals_per_hour: float, handle_seconds: float, answer_seconds: float) -> float:
    """The share of chats answered within ``answer_seconds``:
    1 − C · exp(−(N − A) · t / AHT). 1.0 with no arrivals; 0.0 when the agents
    cannot keep up (N ≤ A)."""
    if arrivals_per_hour <= 0:
        return 1.0
    if handle_seconds <= 0:
        raise ValueError("a chat with arrivals must have a handle time")
    traffic = traffic_offered(arrivals_per_hour=arrivals_per_hour, handle_seconds=handle_seconds)
    if agents <= traffic:
        return 0.0
    waiting = erlang_c(agents=agents, traffic=traffic)
    return 1 - waiting * math.exp(-(agents - traffic) * answer_seconds / handle_seconds)


def agents_for_chat(*, arrivals_per_hour: float, handle_seconds: float, answer_seconds: float, goal: float) -> int:
    """The fewest agents N with N > A whose service level reaches ``goal`` (a share
    in (0, 1): 0.8 is "80 % answered within ``answer_seconds``"); 0 with no arrivals."""
    if not 0 < goal < 1:
        raise ValueError("the service-level goal must be a share between 0 and 1")
    if arrivals_per_hour <= 0:
        return 0
    traffic = traffic_offered(arrivals_per_hour=arrivals_per_hour, handle_seconds=handle_seconds)
    agents = math.floor(traffic) + 1
    while (
        service_level(
            agents=agents,
            arrivals_per_hour=arrivals_per_hour,
            handle_seconds=handle_seconds,
            answer_seconds=answer_seconds,
        )
        < goal
    ):
        agents += 1
    return agents


def agents_for_work(*, tickets_per_hour: float, handle_seconds: float, occupancy: float) -> int:
    """Agents for work that may wait: ceil(tickets × handle time / 3600 / occupancy),
    ``occupancy`` being the share of an agent's hour spent on tickets (0, 1]; 0 when
    there is no work."""
    if not 0 < occupancy <= 1:
        raise ValueError("occupancy must be a share above 0 and at most 1")
    if tickets_per_hour <= 0 or handle_seconds <= 0:
        return 0
    return math.ceil(tickets_per_hour * handle_seconds / 3600 / occupancy - _ROUNDING)
