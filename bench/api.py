"""The REST API benchmark: `python bench/api.py --help`. Prints a table; asserts nothing.

On the database of DATABASE_URL (default portal_bench_api, created if missing) set up as bench/run.py
does it (migrate, policies, N generated enterprises, every result stored by a cold full run — only
when missing), gunicorn serves the API as in production (DEBUG off, the Dockerfile's command, request
log on), and on the same machine:
  (a) open loop (bench/openloop.py, in a process of its own): match-list GETs arriving at fixed
      rates (`--rates`, default 100, 200, 400 requests/s, `--open-duration` s each) from `--clients`
      polling clients, one enterprise each (GET /api/v1/matches/?enterprise=ID, sending back the ETag
      it has: If-None-Match → 304); latency counted from each request's scheduled time;
  (b) closed loop: wrk, `--connections` concurrent clients on one enterprise's results, a plain GET
      and the conditional GET (→ 304), each sending its next request as soon as the answer arrives;
  (c) a full sync through the change feed as a client does it: GET /api/v1/changes/?snapshot=true,
      following `next` until it is null, keeping the last next_cursor for the next incremental sync;
      then that incremental sync (nothing changed: one empty page).
The load generator runs on the same cores as the server and PostgreSQL: the figures include that.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

try:  # what portal/api/README.md recommends to syncing clients; json when missing
    import orjson
except ImportError:
    orjson = None

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/portal_bench_api"
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local codes = {}
  io.write(string.format("RESULT %d %d %.1f %.3f %.3f %.3f %.3f %d %d\\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.errors.status, summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout))
end
"""


def django_setup(database: str) -> None:
    os.environ["DATABASE_URL"] = database
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("PORTAL_DEV", "1")  # the benchmark process itself: embedded settings, its own URLs
    import django

    django.setup()


def prepare(args) -> tuple[str, int, dict]:
    """The data (set up by bench/run.py's steps when missing), a key, the enterprise to read."""
    from bench import run

    run.ensure_database(args.database)
    env = {**os.environ, "DATABASE_URL": args.database}
    argv = [f"--enterprises={args.enterprises}", f"--seed={args.seed}", f"--jobs={args.jobs}"]
    for step in (["setup"], ["full", "--cold"]):
        if step[0] == "full" and _result_count(args.database) > 0:
            continue
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "run.py"), "--step", *step, *argv],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
            raise SystemExit(f"set-up step {step[0]} failed")
        print(f"  set-up {step[0]}: {time.perf_counter() - started:.0f} s")
    django_setup(args.database)
    from enterprises.models import Enterprise
    from matching.models import MatchChange, MatchResult
    from portal.api.services import issue_api_key
    from portal.models import Scope

    _key, raw = issue_api_key(
        name="bench/api.py", scopes=[Scope.READ_MATCHES], created_by=None, rate_limit="100000000/min"
    )
    ids = list(Enterprise.objects.order_by("pk").values_list("pk", flat=True)[:1000])
    chooser = random.Random(args.seed)
    enterprise = chooser.choice(ids)
    args.polled = chooser.sample(ids, min(args.clients, len(ids)))  # the open-loop clients' enterprises
    counts = {
        "enterprises": Enterprise.objects.count(),
        "results": MatchResult.objects.count(),
        "changes": MatchChange.objects.count(),
        "enterprise_results": MatchResult.objects.filter(enterprise_id=enterprise).count(),
    }
    return raw, enterprise, counts


def _result_count(database: str) -> int:
    import psycopg2

    with psycopg2.connect(database) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('matching_matchresult') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return 0
        cursor.execute("SELECT EXISTS (SELECT 1 FROM matching_matchresult)")
        return int(cursor.fetchone()[0])


def start_server(args, log_path: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": args.database,
        "DEBUG": "false",
        "PORTAL_DEV": "0",  # the server under test: production settings
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "CELERY_BROKER_URL": args.broker,  # required with DEBUG off; reads enqueue nothing
        "CACHE_URL": args.cache_url,  # as docker-compose.yml: shared by the workers
    }
    command = [
        str(Path(sys.executable).with_name("gunicorn")), "portal.wsgi:application",
        "--bind", f"127.0.0.1:{args.port}", "--workers", str(args.workers),
        "--worker-class", args.worker_class, "--threads", str(args.threads),
        "--backlog", "2048", "--access-logfile", "-" if args.access_log else "/dev/null",
    ]  # fmt: skip
    log = log_path.open("a")  # one log across the restarts of a run
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status in (200, 503):
                return server
        except OSError:
            time.sleep(0.3)
    stop_server(server)
    raise SystemExit(f"gunicorn did not start; see {log_path}")


def stop_server(server: subprocess.Popen) -> None:
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(server.pid, signal.SIGKILL)


def get(connection: http.client.HTTPConnection, path: str, headers: dict) -> tuple[int, dict, bytes]:
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def wrk(args, url: str, headers: dict, script: Path, measure=lambda: 0.0) -> dict:
    """wrk's figures; `cpu`: what `measure` (a cumulative count) grew by a request of the measured run."""
    command = [
        "wrk",
        f"-t{args.wrk_threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "-s",
        str(script),
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    subprocess.run([*command[:3], "-d3s", *command[4:], url], capture_output=True, check=True)  # warm-up
    before = measure()
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    spent = measure() - before
    match = re.search(r"RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+) (\d+)", output)
    requests, micros, _bytes, p50, p95, p99, worst, non2xx, socket_errors = match.groups()
    socket_line = re.search(r"Socket errors:.*", output)
    return {
        "requests": int(requests),
        "rps": int(requests) / (int(micros) / 1e6),
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
        "max": float(worst),
        "non_2xx_3xx": int(non2xx),
        "socket_errors": int(socket_errors),
        "socket_detail": socket_line.group(0) if socket_line else "",
        "cpu": spent / max(1, int(requests)),
    }


def open_loop(args, workdir: Path, headers: dict, rate: int) -> dict:
    """bench/openloop.py in a process of its own at `rate` requests/s: `--clients` polling clients, one
    per enterprise, each sending back its ETag (If-None-Match) after its first GET."""
    spec = {
        "host": "127.0.0.1",
        "port": args.port,
        "rate": rate,
        "duration": args.open_duration,
        "warmup": args.open_warmup,
        "headers": headers,
        "paths": [f"/api/v1/matches/?enterprise={pk}" for pk in args.polled],
        "max_in_flight": 1000,
        "timeout": 10,
    }
    spec_path = workdir / f"openloop-{rate}.json"
    spec_path.write_text(json.dumps(spec))
    command = [sys.executable, str(ROOT / "bench" / "openloop.py"), str(spec_path)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


class Rows(list):
    """The table's rows, each also printed as soon as it is measured (a later failure loses none)."""

    def append(self, row: tuple[str, str, str]) -> None:
        super().append(row)
        print(f"  {row[0]}: {row[1]}", flush=True)


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def server_cpu(server: subprocess.Popen, database: str) -> float:
    """CPU seconds used so far by gunicorn (master and workers) and the PostgreSQL backends serving
    the bench database (Linux /proc): divided by the requests of a run, the cost of one request,
    which the other work on a shared machine changes far less than it changes latency."""
    import psycopg2

    pids = {server.pid}
    for child in Path("/proc").glob("[0-9]*"):
        try:
            if int(child.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1]) == server.pid:
                pids.add(int(child.name))
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
    name = database.rsplit("/", 1)[-1]
    with psycopg2.connect(database) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [name]
        )
        pids |= {row[0] for row in cursor.fetchall()}
    return sum(_cpu_seconds(pid) for pid in pids)


def ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} ms"


def load_average() -> str:
    return "load " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def parse_json(body: bytes):
    return orjson.loads(body) if orjson is not None else json.loads(body)


def _next_link(reply_headers: dict) -> str | None:
    match = re.match(r"<([^>]+)>;\s*rel=\"next\"", reply_headers.get("Link", ""))
    return urllib.parse.urlsplit(match.group(1))._replace(scheme="", netloc="").geturl() if match else None


def parse_page(body: bytes) -> tuple[int, str | None]:
    """What the client keeps of a page: its items (counted here) and its next_cursor."""
    page = parse_json(body)
    return len(page["results"]), page["next_cursor"]


def full_sync(args, headers: dict) -> dict:
    """As a client: the snapshot, page after page, then the incremental sync. By default the next page
    is requested (from the Link header) as soon as a page has arrived, and pages are parsed in another
    process: a parse holds the interpreter, and a fetching thread waiting for it would leave the server
    blocked on a full socket. --sequential: fetch a page, parse it, then ask for the next."""
    path = f"/api/v1/changes/?snapshot=true&page_size={args.page_size}"
    connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=300)
    pages = items = size = 0
    slowest = 0.0
    cursor = None
    pool = None if args.sequential else concurrent.futures.ProcessPoolExecutor(max_workers=1)
    pending: collections.deque = collections.deque()

    def take(result: tuple[int, str | None]) -> None:
        nonlocal items, cursor
        count, cursor = result
        items += count

    started = time.perf_counter()
    try:
        while path:
            page_started = time.perf_counter()
            status, reply_headers, body = get(connection, path, headers)
            slowest = max(slowest, time.perf_counter() - page_started)
            if status != 200:
                raise SystemExit(f"sync page {pages + 1}: HTTP {status} {body[:300]!r}")
            pages += 1
            size += len(body)
            if pool is None:
                take(parse_page(body))
            else:
                pending.append(pool.submit(parse_page, body))
                while len(pending) > 3 or (pending and pending[0].done()):
                    take(pending.popleft().result())
            path = _next_link(reply_headers)
        while pending:
            take(pending.popleft().result())
        seconds = time.perf_counter() - started
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    incremental_started = time.perf_counter()
    status, _headers, body = get(connection, f"/api/v1/changes/?cursor={cursor}", headers)
    incremental = parse_json(body)
    return {
        "seconds": seconds,
        "pages": pages,
        "items": items,
        "megabytes": size / 1e6,
        "slowest_page_s": slowest,
        "incremental_ms": 1000 * (time.perf_counter() - incremental_started),
        "incremental_items": len(incremental["results"]) if status == 200 else f"HTTP {status}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=os.environ.get("DATABASE_URL") or DEFAULT_DATABASE)
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2, help="processes of the set-up's full run")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/10")
    parser.add_argument(
        "--cache-url",
        default="redis://127.0.0.1:6379/10",
        help="CACHE_URL of the server (docker-compose.yml: Redis); locmemcache:// = one cache per worker",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * (os.cpu_count() or 1) + 1,
        help="gunicorn workers (the Dockerfile: 2 × cores + 1)",
    )
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--access-log", action="store_true", help="gunicorn's access log (compose has it)")
    parser.add_argument("--connections", type=int, default=50, help="concurrent wrk clients")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--duration", type=int, default=20, help="seconds per wrk run")
    parser.add_argument(
        "--rates",
        type=lambda text: [int(rate) for rate in text.split(",")],
        default=[100, 200, 400],
        help="open-loop arrival rates, requests/s, comma-separated",
    )
    parser.add_argument("--open-duration", type=int, default=30, help="seconds measured per open-loop rate")
    parser.add_argument("--open-warmup", type=int, default=5, help="seconds sent before measuring")
    parser.add_argument(
        "--clients", type=int, default=200, help="open-loop polling clients (one enterprise each)"
    )
    parser.add_argument(
        "--page-size", type=int, default=10_000, help="page size of the full sync (the feed allows 10,000)"
    )
    parser.add_argument(
        "--sequential",
        action="store_true",
        help="full sync: request a page only after parsing the previous one",
    )
    parser.add_argument("--skip", choices=["open", "wrk", "sync"], action="append", default=[])
    args = parser.parse_args()
    if shutil.which("wrk") is None and "wrk" not in args.skip:
        raise SystemExit("wrk is not installed (apt-get install wrk), or pass --skip wrk")

    print(f"API benchmark on {args.database.rsplit('/', 1)[-1]}")
    raw_key, enterprise, counts = prepare(args)
    print(f"  data: {counts}; enterprise {enterprise}")
    headers = {"Authorization": f"Api-Key {raw_key}"}
    workdir = Path(tempfile.mkdtemp(prefix="bench-api-"))
    script = workdir / "report.lua"
    script.write_text(WRK_SCRIPT)
    server = start_server(args, workdir / "gunicorn.log")

    def fresh_server() -> subprocess.Popen:
        """Each measurement on a server just started: none inherits the queue a saturated one left."""
        nonlocal server
        stop_server(server)
        server = start_server(args, workdir / "gunicorn.log")
        return server

    print(
        f"  gunicorn: {args.workers} workers, class {args.worker_class}, {args.threads} thread(s), "
        f"cache {args.cache_url.split(':')[0]}; "
        f"wrk: {args.wrk_threads} threads, {args.connections} connections, {args.duration} s; "
        f"{os.cpu_count()} CPUs shared by server, PostgreSQL and load generator"
    )
    rows = Rows()
    try:
        url = f"http://127.0.0.1:{args.port}/api/v1/matches/?enterprise={enterprise}"
        connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
        status, reply_headers, body = get(connection, url, headers)
        etag = reply_headers.get("ETag")
        rows.append(
            (
                "one enterprise's results: one GET",
                f"HTTP {status}, {len(body):,} bytes, {len(json.loads(body)['results'])} results",
                "",
            )
        )
        status304, _h, _b = get(connection, url, {**headers, "If-None-Match": etag})
        rows.append(("  the same with If-None-Match", f"HTTP {status304}", ""))
        if "open" not in args.skip:
            for rate in args.rates:
                fresh_server()
                before = load_average()
                cpu = server_cpu(server, args.database)
                figures = open_loop(args, workdir, headers, rate)
                sent = figures["clients"] + int(args.open_warmup * rate) + figures["scheduled"]
                cpu = (server_cpu(server, args.database) - cpu) / max(1, sent)
                statuses = ", ".join(
                    f"{code}: {count:,}" for code, count in sorted(figures["statuses"].items())
                )
                errors = ", ".join(f"{name}: {count:,}" for name, count in sorted(figures["errors"].items()))
                rows.append(
                    (
                        f"(a) open loop {rate} req/s, {figures['clients']} polling clients, "
                        f"{args.open_duration} s ({before})",
                        f"p50 {ms(figures['p50'])}, p95 {ms(figures['p95'])}, p99 {ms(figures['p99'])}, "
                        f"max {ms(figures['max'])}; {figures['answered']:,} of {figures['scheduled']:,} "
                        f"answered ({statuses}); {figures['error_count']} errors{': ' + errors if errors else ''}; "
                        f"generator late ≤ {figures['max_send_lag_ms']:.0f} ms; server CPU "
                        f"{cpu * 1000:.1f} ms a request (gunicorn + PostgreSQL; priming and warm-up included)",
                        "p95 ≤ 50 ms at 200 req/s",
                    )
                )
        if "wrk" not in args.skip:
            runs = [("GET", {}), ("conditional GET → 304", {"If-None-Match": etag})]
            for label, extra in runs:
                fresh_server()
                before = load_average()
                figures = wrk(
                    args, url, {**headers, **extra}, script, measure=lambda: server_cpu(server, args.database)
                )
                cpu = figures["cpu"]
                errors = figures["non_2xx_3xx"] + figures["socket_errors"]
                rows.append(
                    (
                        f"(b) closed loop, {args.connections} connections, {label} ({before})",
                        f"p50 {figures['p50']:.1f} ms, p95 {figures['p95']:.1f} ms, p99 {figures['p99']:.1f} ms, "
                        f"{figures['rps']:.0f} req/s ({figures['requests']:,} requests, {errors} errors"
                        + (f": {figures['socket_detail']})" if errors else ")")
                        + f"; server CPU {cpu * 1000:.1f} ms a request (gunicorn + PostgreSQL)",
                        "",
                    )
                )
        if "sync" not in args.skip:
            sync = full_sync(args, headers)
            rows.append(
                (
                    f"(c) full sync, snapshot via the change feed (page_size {args.page_size}; "
                    f"{'sequential' if args.sequential else 'pages parsed in another process while the next is fetched'}, "
                    f"{'orjson' if orjson else 'json'})",
                    f"{sync['seconds']:.1f} s, {sync['pages']:,} pages, {sync['items']:,} items, "
                    f"{sync['megabytes']:.0f} MB, slowest page {sync['slowest_page_s'] * 1000:.0f} ms",
                    "≤ 60 s",
                )
            )
            rows.append(
                (
                    "    then the incremental sync (stored next_cursor)",
                    f"{sync['incremental_ms']:.0f} ms, {sync['incremental_items']} items",
                    "",
                )
            )
    finally:
        stop_server(server)
    width = max(len(row[0]) for row in rows)
    value_width = max(len(row[1]) for row in rows)
    print(f"\n{'measure'.ljust(width)}  {'result'.ljust(value_width)}  target")
    for measure, value, target in rows:
        print(f"{measure.ljust(width)}  {value.ljust(value_width)}  {target}")
    print(f"\ngunicorn log: {workdir / 'gunicorn.log'}")


if __name__ == "__main__":
    main()
