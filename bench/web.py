"""The pages people wait on, over HTTP as they are served (issue 21): the complaint
form's POST, the tracking page and the agent's queue, driven by ``wrk`` against
gunicorn started exactly as ``make run`` starts it.

    .venv/bin/python bench/web.py [--duration 15] [--connections 8]
    .venv/bin/python bench/web.py --smoke     # 2 s a page

A database and a Redis of the run's own, filled with the demo data
(``manage.py demo_seed``); gunicorn (``cs_desk.launcher.child_commands(...)["web"]``:
2 sync workers) on them, the rate limits raised so that they refuse nothing (every
request comes from 127.0.0.1; their own cost is still paid). Each page in turn:
``wrk`` with ``--connections`` connections on 2 threads for ``--duration`` seconds,
after a 2 s warm-up. Figures: requests a second, latency p50 and p99 (wrk's), and
CPU per request, from /proc: of gunicorn's processes, and of the whole machine less
``wrk`` itself (PostgreSQL and Redis included).

The tracking page is loaded for 20 tickets in turn, as consumers reload them (the
warm-up renders each once, so the figure is of pages unchanged since).

The complaint POST is a filled form (urlencoded, a new phone number each time, the
CSRF token of one visitor), and once more with a photo attached (a phone-camera PNG,
multipart). After the runs every accepted complaint is checked: stored once, with
its first message and its two targets.

Progress on stderr, one JSON object as the last line of stdout; the figures replace
this script's section of bench/RESULTS.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402
import urllib.request  # noqa: E402
from http.cookiejar import CookieJar  # noqa: E402

from bench import _common as common  # noqa: E402

TARGETS = {"post": 200, "post_photo": None, "tracking": 1000, "queue": None}
UNLIMITED = {
    name: "1000000000"
    for name in (
        "RATE_COMPLAINTS_PER_IP_HOUR",
        "RATE_COMPLAINTS_PER_CONTACT_HOUR",
        "RATE_REPLIES_PER_IP_HOUR",
        "RATE_REPLIES_PER_TICKET_HOUR",
        "RATE_TOKEN_MISSES_PER_IP",
    )
}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
TRACKED = 20  # tracking pages loaded in turn


def parse_args():
    parser = common.parser_new(__doc__)
    parser.add_argument("--duration", type=int, help="seconds of load per page (default 15; smoke 2)")
    parser.add_argument("--connections", type=int, help="wrk's open connections (default 8)")
    parser.add_argument("--tickets", type=int, help="demo tickets to seed (default 300; smoke 20)")
    parser.add_argument("--only", help="comma-separated pages to run (post, post_photo, tracking, queue)")
    args = parser.parse_args()
    common.sizes_apply(args, duration=(15, 2), connections=(8, 4), tickets=(300, 20))
    return args


# --- CPU from /proc ---------------------------------------------------------------------


def process_cpu_s(server) -> float:
    """User + system CPU of the server and every process under it, in seconds."""
    total = 0
    for p in server.pids():
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def machine_cpu_s() -> float:
    """Busy CPU of the whole machine (every core), in seconds."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- What the requests send ------------------------------------------------------------------


def photo_png() -> bytes:
    """A phone screenshot as a consumer attaches one: 1080×1920, flat colours and text-like
    rows, a few hundred KiB as PNG."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1080, 1920), (245, 245, 245))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 1080, 160), fill=(255, 80, 0))
    for row in range(40):
        y = 220 + row * 42
        draw.rectangle((40, y, 40 + (row * 97) % 900 + 100, y + 22), fill=(60 + row, 60, 60))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def visitor(base: str) -> tuple[str, str, str]:
    """A visitor's CSRF cookie and form token, and the category id to file under, from
    the form page as a browser gets it."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(f"{base}/complaints/new/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    category = re.search(r'name="category" value="(\d+)"', html).group(1)
    cookie = next(c.value for c in jar if c.name == "csrftoken")
    return cookie, token, category


def lua_quote(text: str | bytes) -> str:
    data = text.encode() if isinstance(text, str) else text
    return '"' + "".join(f"\\{b:03d}" for b in data) + '"'


def post_script(cookie: str, token: str, category: str, photo: bytes | None) -> str:
    """wrk's Lua for the complaint POST: the same visitor, a new phone number each time."""
    fields = {
        "csrfmiddlewaretoken": token,
        "requester_name": "王小明",
        "category": category,
        "order_number": "E202611110001",
        "description": "下单后七天仍未发货，联系店铺客服一直没有回复，请尽快处理。",
        "website": "",
    }
    thread = (
        "local thread_id = 0\nlocal n = 0\nfunction setup(t) thread_id = thread_id + 1; t:set('tid', thread_id) end\n"
    )
    phone = 'local phone = string.format("139%02d%06d", tid, n)\n'
    if photo is None:
        body = "&".join(f"{k}={urllib.parse.quote(v)}" for k, v in fields.items())
        build = f"local body = {lua_quote(body)} .. '&requester_phone=' .. phone\n"
        content_type = "application/x-www-form-urlencoded"
    else:
        boundary = "----cs-desk-bench-boundary"
        head = "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()
        )
        file_head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="evidence"; filename="screenshot.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        )
        tail = f"\r\n--{boundary}--\r\n"
        build = (
            f"local body = {lua_quote(head)} .. '--{boundary}\\r\\nContent-Disposition: form-data; "
            f"name=\"requester_phone\"\\r\\n\\r\\n' .. phone .. '\\r\\n' .. {lua_quote(file_head)} .. photo .. "
            f"{lua_quote(tail)}\n"
        )
        thread += f"local photo = {lua_quote(photo)}\n"
        content_type = f"multipart/form-data; boundary={boundary}"
    return (
        thread
        + "function init(args) tid = tonumber(wrk.thread:get('tid')) end\n"
        + "function request()\n  n = n + 1\n  "
        + phone
        + "  "
        + build
        + f'  return wrk.format("POST", "/complaints/new/", {{["Content-Type"] = "{content_type}", '
        + f'["Cookie"] = "csrftoken={cookie}"}}, body)\nend\n'
    )


def paths_script(paths: list[str], cookie: str = "") -> str:
    """wrk's Lua for GETs going round ``paths``."""
    listed = ", ".join(lua_quote(p) for p in paths)
    headers = f'{{["Cookie"] = {lua_quote(cookie)}}}' if cookie else "nil"
    return (
        f"local paths = {{{listed}}}\nlocal i = 0\n"
        f"function request()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i], {headers})\nend\n"
    )


# --- Running wrk ----------------------------------------------------------------------------


def wrk(url: str, script: Path, *, connections: int, duration: int) -> dict:
    command = [shutil.which("wrk"), "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script), url]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    figures = {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "errors_non_2xx_3xx": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0,
        "socket_errors": sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out)),
    }
    for name, p in (("p50", "50"), ("p99", "99")):
        value, unit = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        figures[f"{name}_ms"] = round(float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit], 2)
    return figures


def page_run(name: str, server, script_text: str, run: common.Run, args) -> dict:
    script = run.directory / f"{name}.lua"
    script.write_text(script_text)
    warm = wrk(server.url, script, connections=args.connections, duration=2)  # warm-up: connections, caches
    served, machine, wrk_cpu = process_cpu_s(server), machine_cpu_s(), children_cpu_s()
    started = time.monotonic()
    figures = wrk(server.url, script, connections=args.connections, duration=args.duration)
    elapsed = time.monotonic() - started
    served = process_cpu_s(server) - served
    wrk_cpu = children_cpu_s() - wrk_cpu
    machine = machine_cpu_s() - machine - wrk_cpu
    n = max(figures["requests"], 1)
    figures |= {
        "per_s": round(figures["requests"] / elapsed, 1),
        "gunicorn_cpu_ms": round(served * 1000 / n, 2),
        "machine_cpu_ms": round(machine * 1000 / n, 2),
        # Answered with a redirect or a page, the warm-up's included (a POST's is a stored complaint).
        "answered_with_warm_up": figures["requests"]
        - figures["errors_non_2xx_3xx"]
        + warm["requests"]
        - warm["errors_non_2xx_3xx"],
    }
    common.log(f"{name}: {figures}")
    return figures


# --- The run --------------------------------------------------------------------------------


def seed(args) -> dict:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from tests.servers import session_cookie
    from tickets.models import Ticket

    call_command("demo_seed", tickets=args.tickets, verbosity=0, stdout=io.StringIO())
    tokens = list(Ticket.objects.order_by("pk").values_list("tracking_token", flat=True))
    agent = get_user_model().objects.get(username="agent")
    return {"tokens": tokens, "agent_cookie": session_cookie(agent), "tickets_before": len(tokens)}


def stored_check(before: int, accepted: int, connections: int) -> dict:
    """Every accepted complaint stored once, with its first message and two targets
    (wrk counts what it received: up to ``connections`` more may have been stored
    as the clock ran out of each run)."""
    from django.db.models import Count

    from tickets.models import Ticket

    new = Ticket.objects.order_by("pk")[before:]
    tickets = Ticket.objects.filter(pk__in=new.values("pk"))
    count = tickets.count()
    shapes = tickets.annotate(m=Count("messages", distinct=True), t=Count("targets", distinct=True)).values_list(
        "m", "t"
    )
    wrong = sum(1 for m, t in shapes if (m, t) != (1, 2))
    references = tickets.values("reference").distinct().count()
    if not accepted <= count <= accepted + connections or wrong or references != count:
        raise AssertionError(f"stored {count} complaints for {accepted} accepted; {wrong} malformed; "
                             f"{references} distinct references")  # fmt: skip
    return {"accepted": accepted, "stored": count, "malformed": wrong}


def measure(args, run: common.Run) -> dict:
    from tests.servers import Served

    data = seed(args)
    env = {**os.environ, **UNLIMITED}
    server = Served("web", run.directory, env)
    pages = (args.only or ",".join(TARGETS)).split(",")
    results: dict[str, dict] = {}
    accepted = 0
    try:
        cookie, token, category = visitor(server.url)
        scripts = {
            "post": lambda: post_script(cookie, token, category, None),
            "post_photo": lambda: post_script(cookie, token, category, photo_png()),
            # Consumers reloading their pages: 20 tickets in turn (the warm-up renders each once).
            "tracking": lambda: paths_script([f"/t/{t}/" for t in data["tokens"][:TRACKED]]),
            "queue": lambda: paths_script(["/desk/"], data["agent_cookie"]),
        }
        for name in pages:
            results[name] = page_run(name, server, scripts[name](), run, args)
            if name.startswith("post"):
                accepted += results[name]["answered_with_warm_up"]
    except BaseException:
        common.log(f"gunicorn's log ends:\n{server.log.read_text()[-4000:]}")
        raise
    finally:
        server.stop()
    runs = 2 * sum(1 for name in pages if name.startswith("post"))  # each with its warm-up
    checked = stored_check(data["tickets_before"], accepted, args.connections * runs)
    return {"connections": args.connections, "duration_s": args.duration, "pages": results, "stored": checked}


def results_write(result: dict, *, write: bool) -> None:
    labels = {
        "post": "complaint form POST",
        "post_photo": "complaint form POST with a 1080×1920 PNG screenshot",
        "tracking": f"tracking page `/t/<token>/` ({TRACKED} demo tickets in turn)",
        "queue": "agent's queue `/desk/` (the demo's agent)",
    }
    rows = []
    for name, f in result["pages"].items():
        target = TARGETS[name]
        verdict = "" if target is None else f"≥ {target:,} /s ({'met' if f['per_s'] >= target else 'missed'})"
        rows.append(
            f"| {labels[name]} | {f['per_s']:,.1f} | {f['p50_ms']:.1f} ms | {f['p99_ms']:.1f} ms | "
            f"{f['gunicorn_cpu_ms']:.1f} ms | {f['machine_cpu_ms']:.1f} ms | {f['errors_non_2xx_3xx']} | {verdict} |"
        )
    table = "\n".join(rows)
    s = result["stored"]
    body = f"""
Measured {common.now_utc_text()}.

Machine:
{common.machine_markdown(common.machine())}

Command: `{common.command_line()}`; settings `cs_desk.settings.dev`, a database of its own
(`cs_desk_bench_web_<pid>`) with the demo data, a private Redis (cache, rate limits, broker: no
worker runs, the tasks a request dispatches wait in it), gunicorn as `make run` starts it (2 sync
workers), the rate limits raised so that they refuse nothing. `wrk -t2 -c{result["connections"]}
-d{result["duration_s"]}s` per page after a 2 s warm-up, on the same two cores as the server.
CPU per request from /proc: gunicorn's processes, and the whole machine less wrk (PostgreSQL and
Redis included).

| page | requests/s | p50 | p99 | gunicorn CPU/request | machine CPU/request | non-2xx/3xx | target |
|---|---|---|---|---|---|---|---|
{table}

Complaints checked after the runs: {s["accepted"]:,} accepted (a redirect to the confirmation), {s["stored"]:,}
stored, each once, with its message and two targets ({s["malformed"]} malformed).

Last line of output:

```
{json.dumps(result)}
```
"""
    common.results_section_write("bench/web.py — the pages over HTTP, with wrk", body, write=write)


def main() -> None:
    from django.core.management import call_command

    args = parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    with common.run_owned("web", keep=args.keep) as run:
        # As make run serves them: static files collected (whitenoise's manifest) into the run's data directory.
        os.environ["CS_DESK_DATA_DIR"] = str(run.directory / "data")
        common.django_setup(db_name=run.db_name, redis_url=run.redis_url)
        common.migrate()
        call_command("collectstatic", "--noinput", verbosity=0)
        result = measure(args, run)
        results_write(result, write=not args.no_results)
        print(json.dumps(result), flush=True)
        if args.smoke:
            common.log("smoke run: figures not judged, RESULTS.md not written")


if __name__ == "__main__":
    main()
