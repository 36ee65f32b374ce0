"""The staffing arithmetic (reports.staffing): Erlang C for chat, plain work over
occupancy for tickets. Every expectation is worked out by hand in the comments."""

from __future__ import annotations

import math

import pytest

from reports.staffing import agents_for_chat, agents_for_work, erlang_c, service_level, traffic_offered

# The worked example: 100 chats an hour, each handled in 180 s (3 minutes):
# A = 100 × 180 / 3600 = 5 Erlangs (five agents kept busy on average).
#
# Erlang B by its recursion B(n) = A·B(n−1) / (n + A·B(n−1)), B(0) = 1, A = 5:
#   B(1) = 5 / 6                                   = 0.833333
#   B(2) = (25/6) / (2 + 25/6)      = 25/37        = 0.675676
#   B(3) = (125/37) / (3 + 125/37)  = 125/236      = 0.529661
#   B(4) = (625/236) / (4 + 625/236) = 625/1569    = 0.398343
#   B(5) = (3125/1569) / (5 + 3125/1569) = 3125/10970 = 0.284868
#   B(6) = (15625/10970) / (6 + 15625/10970) = 15625/81445 = 3125/16289 = 0.191847
# Erlang C with N = 6: C = N·B / (N − A·(1 − B))
#   = 6 × 0.191847 / (6 − 5 × 0.808153) = 1.151082 / 1.959235 = 0.587516 (= 3125/5319)
# Service level within t = 60 s: 1 − C · exp(−(N − A) · t / AHT)
#   = 1 − 0.587516 × exp(−1 × 60/180) = 1 − 0.587516 × 0.716531 = 1 − 0.420972 = 0.579026
# N = 7: B(7) = (5 × 0.191847) / (7 + 5 × 0.191847) = 0.959236 / 7.959236 = 0.120519
#   C = 7 × 0.120519 / (7 − 5 × 0.879481) = 0.843632 / 2.602595 = 0.324150 (= 15625/48203)
#   SL = 1 − 0.324150 × exp(−2 × 60/180) = 1 − 0.324150 × 0.513417 = 1 − 0.166424 = 0.833576
# So 6 agents answer 57.9 % within a minute and 7 answer 83.4 %: 7 is the fewest for 80 %.
CHATS = {"arrivals_per_hour": 100, "handle_seconds": 180}


def test_traffic_in_erlangs():
    assert traffic_offered(**CHATS) == 5


def test_erlang_c_worked_example():
    assert erlang_c(agents=6, traffic=5) == pytest.approx(3125 / 5319)
    assert erlang_c(agents=6, traffic=5) == pytest.approx(0.5875, abs=5e-5)
    assert erlang_c(agents=7, traffic=5) == pytest.approx(15625 / 48203)


def test_service_level_worked_example():
    assert service_level(agents=6, answer_seconds=60, **CHATS) == pytest.approx(0.579026, abs=1e-6)
    assert service_level(agents=7, answer_seconds=60, **CHATS) == pytest.approx(0.833576, abs=1e-6)


def test_the_fewest_agents_for_80_percent_within_a_minute():
    assert agents_for_chat(answer_seconds=60, goal=0.8, **CHATS) == 7
    # A stricter goal needs more: N = 8 gives C = 0.167267, SL = 1 − 0.167267 × exp(−1) = 0.938466.
    assert agents_for_chat(answer_seconds=60, goal=0.9, **CHATS) == 8


def test_one_agent_carries_what_erlang_c_reduces_to_the_traffic():
    # With N = 1, B(1) = A / (1 + A) and C = B / (1 − A·(1 − B)) = A: the agent is busy a share A of the time.
    assert erlang_c(agents=1, traffic=0.25) == pytest.approx(0.25)


def test_agents_no_more_than_the_traffic_always_make_a_chat_wait():
    assert erlang_c(agents=5, traffic=5) == 1.0
    assert erlang_c(agents=4, traffic=5) == 1.0
    assert erlang_c(agents=0, traffic=0.5) == 1.0
    assert service_level(agents=5, answer_seconds=60, **CHATS) == 0.0


def test_no_arrivals_need_no_agents():
    assert agents_for_chat(arrivals_per_hour=0, handle_seconds=300, answer_seconds=60, goal=0.8) == 0
    assert service_level(agents=0, arrivals_per_hour=0, handle_seconds=300, answer_seconds=60) == 1.0
    assert erlang_c(agents=3, traffic=0) == 0.0


def test_erlang_c_stays_finite_for_a_large_centre():
    # 2 000 agents at 1 900 Erlangs: factorials of 2 000 overflow a float; the recursion does not.
    waiting = erlang_c(agents=2000, traffic=1900)
    assert 0 < waiting < 1 and math.isfinite(waiting)


def test_the_goal_must_be_a_share_below_one():
    with pytest.raises(ValueError):
        agents_for_chat(answer_seconds=60, goal=1.0, **CHATS)
    with pytest.raises(ValueError):
        agents_for_chat(answer_seconds=60, goal=0, **CHATS)


def test_agents_for_work():
    # 12 tickets/h × 900 s = 10 800 s = 3 h of work each hour; 3 / 0.85 = 3.53 → 4 agents.
    assert agents_for_work(tickets_per_hour=12, handle_seconds=900, occupancy=0.85) == 4
    # 17 × 900 s = 4.25 h; 4.25 / 0.85 = 5 exactly (5.000000000000001 in floats): 5 agents, not 6.
    assert agents_for_work(tickets_per_hour=17, handle_seconds=900, occupancy=0.85) == 5
    assert agents_for_work(tickets_per_hour=0, handle_seconds=900, occupancy=0.85) == 0
    assert agents_for_work(tickets_per_hour=0.125, handle_seconds=900, occupancy=1) == 1
    with pytest.raises(ValueError):
        agents_for_work(tickets_per_hour=12, handle_seconds=900, occupancy=0)
