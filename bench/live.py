"""The live desk's push (issue 20): how long after a committed change each of N
agents' open desk pages hears of it, and what an open socket costs the server.

    .venv/bin/python bench/live.py [--agents 50] [--changes 40] [--idle 1000]
    .venv/bin/python bench/live.py --smoke     # 5 agents, 5 changes, 50 idle sockets

A database and a Redis of the run's own; the WebSocket server as make run starts it
(``cs_desk.launcher.child_commands(...)["live"]``: uvicorn, ``cs_desk.asgi``) on them.
``--agents`` agents of one team each hold a desk socket (a websockets client in a
thread of its own, as a desk page holds one); this process then makes ``--changes``
replies to a ticket of that team through ``tickets.services.ticket_reply``, 200 ms
apart. Latency of a change at one agent = the socket's receipt − the start of the
desk's push, which runs once the change has committed (the push is wrapped to note
that instant). Memory: the server's resident size before and after ``--idle`` more
sockets (a supervisor's idle desk pages) are open, divided by their number.

Progress on stderr, one JSON object as the last line of stdout; the figures replace
this script's section of bench/RESULTS.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

from bench import _common as common  # noqa: E402
from bench._mail_lag import percentile  # noqa: E402

TARGET_P99_MS = 100


def parse_args():
    parser = common.parser_new(__doc__)
    parser.add_argument("--agents", type=int, help="agents with a desk socket open (default 50; smoke 5)")
    parser.add_argument("--changes", type=int, help="changes pushed to them (default 40; smoke 5)")
    parser.add_argument(
        "--idle", type=int, help="more sockets held open for the memory figure (default 1000; smoke 50)"
    )
    args = parser.parse_args()
    common.sizes_apply(args, agents=(50, 5), changes=(40, 5), idle=(1000, 50))
    return args


class DeskPage(threading.Thread):
    """One agent's desk socket: notes the instant each ``tickets`` message arrives."""

    def __init__(self, url: str, cookie: str, expected: int) -> None:
        super().__init__(daemon=True)
        self.url, self.cookie, self.expected = url, cookie, expected
        self.arrived: list[float] = []
        self.ready = threading.Event()

    def run(self) -> None:
        from websockets.sync.client import connect

        with connect(self.url, additional_headers={"Cookie": self.cookie, "Origin": "http://127.0.0.1:8000"}) as ws:
            json.loads(ws.recv(timeout=10))  # the unread count comes first
            self.ready.set()
            while len(self.arrived) < self.expected:
                if json.loads(ws.recv(timeout=60))["type"] == "tickets":
                    self.arrived.append(time.monotonic())


def idle_sockets(url: str, cookie: str, count: int, hold: threading.Event, opened: threading.Event) -> None:
    """Open ``count`` sockets (asyncio, one thread), keep them until ``hold`` is set."""
    from websockets.asyncio.client import connect

    async def main() -> None:
        headers = {"Cookie": cookie, "Origin": "http://127.0.0.1:8000"}
        sockets = []
        for _ in range(count):
            ws = await connect(url, additional_headers=headers)
            await ws.recv()
            sockets.append(ws)
        opened.set()
        while not hold.is_set():
            await asyncio.sleep(0.1)
        await asyncio.gather(*(ws.close() for ws in sockets))

    asyncio.run(main())


def measure(args, run: common.Run) -> dict:
    from desk.live import desk_push
    from tests.servers import Served, session_cookie
    from tickets import services
    from tickets.events import events_consumer_register
    from tickets.models import Ticket

    _team, supervisor, _manager, agents, categories = common.staff_create(agents=args.agents)
    ticket = services.ticket_create(category=categories["normal"], subject="退款七天没到账",
                                    body="申请退款七天了还没有到账。", requester_name="顾客",
                                    requester_email="buyer@example.cn")  # fmt: skip
    pushes: list[float] = []

    def noted_push(event_ids: list[int]) -> None:
        pushes.append(time.monotonic())
        desk_push(event_ids)

    events_consumer_register("desk", noted_push)  # replaces the desk's own registration
    # As make run starts it, on the run's database and Redis; many sockets of one user, on purpose.
    server = Served("live", run.directory, {**os.environ, "SOCKET_CONNECTS_PER_USER_MINUTE": "1000000"})
    try:
        url = f"ws://127.0.0.1:{server.port}/ws/desk/"
        pages = [DeskPage(url, session_cookie(agent), args.changes) for agent in agents]
        for page in pages:
            page.start()
        for page in pages:
            if not page.ready.wait(timeout=30):
                raise TimeoutError("a desk socket did not open")
        common.log(f"{len(pages)} desk sockets open; {args.changes} changes, 200 ms apart")
        for n in range(args.changes):
            services.ticket_reply(ticket=Ticket.objects.get(pk=ticket.pk), author=agents[n % len(agents)],
                                  body=f"第 {n + 1} 次回复：正在核实。")  # fmt: skip
            time.sleep(0.2)  # the pace of a busy team, not a clock for a test
        for page in pages:
            page.join(timeout=60)
        late = [page for page in pages if len(page.arrived) < args.changes]
        if late or len(pushes) != args.changes:
            raise AssertionError(f"{len(late)} sockets missed changes; {len(pushes)} pushes for {args.changes}")
        latencies = [(page.arrived[n] - pushes[n]) * 1000 for page in pages for n in range(args.changes)]

        before = server.rss_kib()
        hold, opened = threading.Event(), threading.Event()
        holder = threading.Thread(target=idle_sockets, args=(url, session_cookie(supervisor), args.idle, hold, opened))
        holder.start()
        if not opened.wait(timeout=300):
            raise TimeoutError(f"{args.idle} idle sockets did not open")
        time.sleep(1)  # let the server settle after the last handshake
        after = server.rss_kib()
        hold.set()
        holder.join(timeout=60)
    finally:
        server.stop()
    result = {
        "agents": args.agents, "changes": args.changes, "deliveries": len(latencies),
        "p50_ms": round(statistics.median(latencies), 1), "p95_ms": round(percentile(latencies, 95), 1),
        "p99_ms": round(percentile(latencies, 99), 1), "max_ms": round(max(latencies), 1),
        "idle_sockets": args.idle, "rss_before_kib": before, "rss_after_kib": after,
        "kib_per_socket": round((after - before) / args.idle, 1),
    }  # fmt: skip
    common.log(f"fan-out to {args.agents}: p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, "
               f"max {result['max_ms']} ms; {result['kib_per_socket']} KiB per idle socket")  # fmt: skip
    return result


def results_write(result: dict, *, write: bool) -> None:
    verdict = "met" if result["p99_ms"] <= TARGET_P99_MS else "missed"
    body = f"""
Measured {common.now_utc_text()}.

Machine:
{common.machine_markdown(common.machine())}

Command: `{common.command_line()}`; settings `cs_desk.settings.dev`, a database of its own
(`cs_desk_bench_live_<pid>`), a private Redis (the channel layer), the WebSocket server as
`make run` starts it (uvicorn, `cs_desk.asgi`).

**Fan-out.** {result["agents"]} agents of one team, each with a desk socket (a client thread
each); {result["changes"]} replies to one of the team's tickets, 200 ms apart, through the
services. Latency = a socket's receipt − the start of the desk's push (after the commit):
{result["deliveries"]} deliveries.

| figure | value | target |
|---|---|---|
| p50 | {result["p50_ms"]:.1f} ms | |
| p95 | {result["p95_ms"]:.1f} ms | |
| p99 | {result["p99_ms"]:.1f} ms | ≤ {TARGET_P99_MS} ms, the chat's delivery target ({verdict}) |
| max | {result["max_ms"]:.1f} ms | |

**Memory.** The server's resident size before and after {result["idle_sockets"]} more desk
sockets were opened and held: {result["rss_before_kib"]:,} → {result["rss_after_kib"]:,} KiB,
{result["kib_per_socket"]:.1f} KiB per socket.

Last line of output:

```
{json.dumps(result)}
```
"""
    common.results_section_write("bench/live.py — the live desk's push and the cost of a socket", body, write=write)


def main() -> None:
    args = parse_args()
    with common.run_owned("live", keep=args.keep) as run:
        common.django_setup(db_name=run.db_name, redis_url=run.redis_url)
        common.migrate()
        result = measure(args, run)
        results_write(result, write=not args.no_results)
        print(json.dumps(result), flush=True)
        if args.smoke:
            common.log("smoke run: figures not judged, RESULTS.md not written")


if __name__ == "__main__":
    main()
