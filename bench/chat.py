"""Live chat (issue 20): how long a chat message takes from the sender's socket to
the other side's, with ``--chats`` chats open at once, and what an open chat
socket costs the server.

    .venv/bin/python bench/chat.py [--chats 1000] [--agents 50]
    .venv/bin/python bench/chat.py --smoke     # 20 chats, 4 agents

A database and a Redis of the run's own; the WebSocket server as make run starts it
(``cs_desk.launcher.child_commands(...)["live"]``: uvicorn, ``cs_desk.asgi``) on them,
its per-address limits raised (every client here is 127.0.0.1). ``--agents`` agents
go online; ``--chats`` chats are started and taken through the services
(``chat_start``, ``chat_accept``). Every chat's consumer socket is then opened and
held (asyncio, one thread): the server's resident size before and after, divided by
their number, is the memory per open chat. Then each agent, on a desk socket of
their own, works their chats one after the other, all agents at once: watch the
chat, the consumer writes (timed until the agent's socket has it), the agent answers
over the socket (timed until the consumer's socket has it). Latency = receipt −
send, both read from this process's clock: the whole path, socket to socket,
through the database write and the after-commit push.

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
import time  # noqa: E402

from bench import _common as common  # noqa: E402
from bench._mail_lag import percentile  # noqa: E402

TARGET_P99_MS = 100
ORIGIN = {"Origin": "http://127.0.0.1:8000"}
UNLIMITED = {
    name: "1000000"
    for name in (
        "SOCKET_CONNECTS_PER_IP_MINUTE",
        "SOCKET_CONNECTS_PER_USER_MINUTE",
        "CHAT_MESSAGES_PER_IP_MINUTE",
        "CHAT_MESSAGES_PER_CHAT_MINUTE",
    )
}


def parse_args():
    parser = common.parser_new(__doc__)
    parser.add_argument("--chats", type=int, help="chats open at once (default 1000; smoke 20)")
    parser.add_argument("--agents", type=int, help="agents answering them (default 50; smoke 4)")
    parser.add_argument(
        "--rate", type=float, help="messages a second offered in the paced phase (default 20; smoke 10)"
    )
    args = parser.parse_args()
    common.sizes_apply(args, chats=(1000, 20), agents=(50, 4), rate=(20.0, 10.0))
    return args


def chats_start(args) -> tuple[list, dict]:
    """The agents online, and the chats started and taken: [(ticket, agent)], cookies by agent id."""
    from tests.servers import session_cookie
    from tickets.models import Chat
    from tickets.services.chat import availability_set, chat_accept, chat_start

    _team, _supervisor, _manager, agents, categories = common.staff_create(agents=args.agents)
    for agent in agents:
        availability_set(user=agent, status="online", capacity=20)
    started = []
    for n in range(args.chats):
        ticket = chat_start(category=categories["normal"], body=f"第 {n} 号会话：快递三天没动了",
                            requester_name="顾客", requester_phone="13812345678")  # fmt: skip
        agent = next(a for a in agents if a.pk == Chat.objects.get(ticket=ticket).offered_to_id)
        chat_accept(ticket=ticket, agent=agent)
        started.append((ticket, agent))
        if (n + 1) % 200 == 0:
            common.log(f"{n + 1} chats started and taken")
    return started, {agent.pk: session_cookie(agent) for agent in agents}


class Consumer:
    """One chat's consumer socket: hands each message it hears to whoever waits for its body."""

    def __init__(self, ws) -> None:
        self.ws, self.waiting = ws, {}

    async def listen(self) -> None:
        async for raw in self.ws:
            message = json.loads(raw)
            if message["type"] == "message" and message["message"]["body"] in self.waiting:
                self.waiting.pop(message["message"]["body"]).set_result(time.monotonic())


class Desk:
    """One agent's desk socket, its messages queued as they arrive."""

    def __init__(self, ws) -> None:
        self.ws, self.inbox = ws, asyncio.Queue()
        self.listener = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        async for raw in self.ws:
            await self.inbox.put(json.loads(raw))

    async def until(self, kind: str, test=lambda m: True) -> dict:
        while True:
            message = await asyncio.wait_for(self.inbox.get(), timeout=30)
            if message["type"] == "chat.error":
                raise AssertionError(f"the server refused a message: {message}")
            if message["type"] == kind and test(message):
                return message


async def exchange(desk: Desk, ticket, consumer: Consumer, latencies: dict, n: int) -> None:
    """The agent opens the chat; the consumer writes (timed until the agent's socket
    has it); the agent answers (timed until the consumer's socket has it)."""
    await desk.ws.send(json.dumps({"type": "watch", "ticket": ticket.pk, "after": 1 << 40}))
    await desk.until("chat")
    asked, answer = f"{ticket.reference} 还在吗？（{n}）", f"{ticket.reference} 在的，正在为您核实。（{n}）"
    sent = time.monotonic()
    await consumer.ws.send(json.dumps({"type": "message", "body": asked, "key": f"k{n}-{ticket.pk}"}))
    await desk.until("chat.message", lambda m: m["message"]["body"] == asked)
    latencies["to_agent"].append((time.monotonic() - sent) * 1000)
    heard = asyncio.get_running_loop().create_future()
    consumer.waiting[answer] = heard
    sent = time.monotonic()
    await desk.ws.send(json.dumps({"type": "chat.send", "body": answer, "key": f"a{n}-{ticket.pk}"}))
    latencies["to_consumer"].append((await asyncio.wait_for(heard, timeout=30) - sent) * 1000)


async def phase(desks: dict, by_agent: dict, consumers: dict, *, interval: float, n: int) -> dict:
    """Every agent goes through their chats once, one exchange each: an exchange
    every ``interval`` seconds per agent, the agents spread evenly over it (0: one
    after the other, as fast as the server answers)."""
    latencies: dict[str, list[float]] = {"to_agent": [], "to_consumer": []}
    began = time.monotonic()

    async def agent_works(i: int, pk: int) -> None:
        for j, ticket in enumerate(by_agent[pk]):
            if interval:
                await asyncio.sleep(max(0.0, began + (j + i / len(desks)) * interval - time.monotonic()))
            await exchange(desks[pk], ticket, consumers[ticket.pk], latencies, n)

    await asyncio.gather(*(agent_works(i, pk) for i, pk in enumerate(desks)))
    return {"latencies": latencies, "elapsed_s": time.monotonic() - began}


async def drive(port: int, started: list, cookies: dict, server, rate: float) -> dict:
    from websockets.asyncio.client import connect

    before = server.rss_kib()
    consumers = {}
    for ticket, _agent in started:
        url = f"ws://127.0.0.1:{port}/ws/chat/{ticket.tracking_token}/?after={1 << 40}"
        ws = await connect(url, additional_headers=ORIGIN)
        json.loads(await ws.recv())  # hello
        consumers[ticket.pk] = Consumer(ws)
    await asyncio.sleep(1)  # let the server settle after the last handshake
    after = server.rss_kib()
    common.log(f"{len(consumers)} chat sockets open: {before:,} → {after:,} KiB")
    listeners = [asyncio.create_task(c.listen()) for c in consumers.values()]
    by_agent: dict[int, list] = {}
    for ticket, agent in started:
        by_agent.setdefault(agent.pk, []).append(ticket)
    desks = {}
    for pk in by_agent:
        desks[pk] = Desk(
            await connect(f"ws://127.0.0.1:{port}/ws/desk/", additional_headers=ORIGIN | {"Cookie": cookies[pk]})
        )
    interval = 2 * len(desks) / rate  # two messages an exchange
    paced = await phase(desks, by_agent, consumers, interval=interval, n=1)
    common.log(f"paced: {2 * len(started)} messages in {paced['elapsed_s']:.1f} s")
    flat_out = await phase(desks, by_agent, consumers, interval=0, n=2)
    common.log(f"flat out: {2 * len(started)} messages in {flat_out['elapsed_s']:.1f} s")
    for task in listeners + [d.listener for d in desks.values()]:
        task.cancel()
    await asyncio.gather(*(c.ws.close() for c in consumers.values()), *(d.ws.close() for d in desks.values()))
    return {"rss_before_kib": before, "rss_after_kib": after, "paced": paced, "flat_out": flat_out}


def summary(latencies: dict[str, list[float]]) -> dict:
    def of(values: list[float]) -> dict:
        return {"p50_ms": round(statistics.median(values), 1), "p99_ms": round(percentile(values, 99), 1),
                "max_ms": round(max(values), 1)}  # fmt: skip

    both = latencies["to_agent"] + latencies["to_consumer"]
    return {"messages": len(both), **of(both), "to_agent": of(latencies["to_agent"]),
            "to_consumer": of(latencies["to_consumer"])}  # fmt: skip


def measure(args, run: common.Run) -> dict:
    from tests.servers import Served

    started, cookies = chats_start(args)
    server = Served("live", run.directory, {**os.environ, **UNLIMITED})
    try:
        figures = asyncio.run(drive(server.port, started, cookies, server, args.rate))
    except BaseException:
        common.log(f"the server's log ends:\n{server.log.read_text()[-4000:]}")
        raise
    finally:
        server.stop()
    paced, flat_out = summary(figures["paced"]["latencies"]), summary(figures["flat_out"]["latencies"])
    for name, figure in (("paced", paced), ("flat out", flat_out)):
        if figure["messages"] != 2 * args.chats:
            raise AssertionError(f"{name}: {figure['messages']} messages delivered of {2 * args.chats}")
    result = {
        "chats": args.chats, "agents": args.agents, "rate_per_s": args.rate,
        "paced": paced | {"messages_per_s": round(paced["messages"] / figures["paced"]["elapsed_s"], 1)},
        "flat_out": flat_out | {"messages_per_s": round(flat_out["messages"] / figures["flat_out"]["elapsed_s"], 1)},
        "rss_before_kib": figures["rss_before_kib"], "rss_after_kib": figures["rss_after_kib"],
        "kib_per_chat": round((figures["rss_after_kib"] - figures["rss_before_kib"]) / args.chats, 1),
    }  # fmt: skip
    common.log(f"paced at {args.rate}/s: p50 {paced['p50_ms']} ms, p99 {paced['p99_ms']} ms; flat out "
               f"{result['flat_out']['messages_per_s']}/s, p99 {flat_out['p99_ms']} ms; "
               f"{result['kib_per_chat']} KiB per open chat")  # fmt: skip
    return result


def results_write(result: dict, *, write: bool) -> None:
    p, f = result["paced"], result["flat_out"]
    verdict = "met" if p["p99_ms"] <= TARGET_P99_MS else "missed"
    body = f"""
Measured {common.now_utc_text()}.

Machine:
{common.machine_markdown(common.machine())}

Command: `{common.command_line()}`; settings `cs_desk.settings.dev`, a database of its own
(`cs_desk_bench_chat_<pid>`), a private Redis (the channel layer), the WebSocket server as
`make run` starts it (uvicorn, `cs_desk.asgi`, two processes), its per-address limits raised.
The clients (every socket, one asyncio thread) share the machine's two cores with it.

{result["chats"]} chats open at once, each with its consumer's socket, taken by {result["agents"]}
agents, each on a desk socket. An exchange: the agent opens the chat, the consumer writes,
the agent answers over the socket. Latency = receipt on the other side's socket − the send,
on one clock: the whole path through the database write and the after-commit push.

**At a busy hour's pace** ({result["rate_per_s"]:g} messages a second, every chat one exchange:
each agent starts one every {2 * result["agents"] / result["rate_per_s"]:g} s, the agents spread
evenly; a chat line every {2 * result["chats"] / result["rate_per_s"]:g} s per chat):
{p["messages"]} messages, {p["messages_per_s"]} a second.

| figure | both ways | consumer → agent | agent → consumer | target |
|---|---|---|---|---|
| p50 | {p["p50_ms"]:.1f} ms | {p["to_agent"]["p50_ms"]:.1f} ms | {p["to_consumer"]["p50_ms"]:.1f} ms | |
| p99 | {p["p99_ms"]:.1f} ms | {p["to_agent"]["p99_ms"]:.1f} ms | {p["to_consumer"]["p99_ms"]:.1f} ms | \
≤ {TARGET_P99_MS} ms ({verdict}) |
| max | {p["max_ms"]:.1f} ms | {p["to_agent"]["max_ms"]:.1f} ms | {p["to_consumer"]["max_ms"]:.1f} ms | |

**Flat out** (every agent's exchanges back to back, no pause): {f["messages_per_s"]} messages a
second, the most the server delivers here; latency then is queueing: p50
{f["p50_ms"]:.1f} ms, p99 {f["p99_ms"]:.1f} ms.

**Memory.** The server's resident size before and after the {result["chats"]} chat sockets
opened: {result["rss_before_kib"]:,} → {result["rss_after_kib"]:,} KiB, {result["kib_per_chat"]:.1f} KiB
per open chat. The desk's push fan-out to 50 agents is measured by `bench/live.py` (its section).

Last line of output:

```
{json.dumps(result)}
```
"""
    common.results_section_write(
        "bench/chat.py — chat message delivery and the cost of an open chat", body, write=write
    )


def main() -> None:
    args = parse_args()
    with common.run_owned("chat", keep=args.keep) as run:
        common.django_setup(db_name=run.db_name, redis_url=run.redis_url)
        common.migrate()
        result = measure(args, run)
        results_write(result, write=not args.no_results)
        print(json.dumps(result), flush=True)
        if args.smoke:
            common.log("smoke run: figures not judged, RESULTS.md not written")


if __name__ == "__main__":
    main()
