"""The matching benchmark: `make bench` (or `python bench/run.py --help`). Prints a table; not a test.

On the database of DATABASE_URL (make bench: portal_bench): migrate, load the policies and generate
N enterprises when the count differs, then measure, each step in a fresh process so that its peak
memory is its own:
  1. full re-evaluation of N enterprises × all benefits, results written: cold (empty results table:
     every row written), warm (inputs unchanged: source hashes and input digests equal, nothing
     evaluated or written: matching/README.md) and the next day (facts derived again, digests equal);
  2. re-evaluation of one enterprise (evaluate_enterprise): median and p95, results current and
     results absent (every row written);
  3. the same conditions and data, per enterprise, with json-logic-qubit (a well-known rule library)
     on a sample, against evaluate_table on the same sample;
  4. the floors, in the same run: read floor (every fact and item row by binary COPY; the cursor's
     fetchall of the same rows beside it), write floor (exactly the rows the cold run stored, by
     COPY into an UNLOGGED table without indexes, --jobs connections), and the runs as multiples;
  5. the full run as the deployment runs it, chunk tasks on Redis, with a real `celery worker` of
     1 then 2 processes (--workers), digests dropped first (every enterprise evaluated and compared).

`--items A` gives the enterprises A items on average (0 to 2A each, uniformly; kinds and values drawn
from the item kinds and item facts of the loaded catalog), so per-item benefits are evaluated over
item rows; `--items 0` (the default) removes generated items again.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("PORTAL_DEV", "1")  # the benchmark process itself: embedded settings, its own URLs
    import django

    django.setup()


def peak_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


# ------------------------------------------------------------------ steps (each runs in its own process)


def step_setup(args) -> dict:
    from django.core.management import call_command

    from enterprises.models import Enterprise

    call_command("migrate", verbosity=0, skip_checks=True)
    call_command("load_policies", verbosity=0, skip_checks=True)
    count = Enterprise.objects.count()
    if count != args.enterprises:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE enterprises_enterprise CASCADE")
        started = time.perf_counter()
        call_command(
            "generate_enterprises", args.enterprises, seed=args.seed, without_history=True, skip_checks=True
        )
        return {"generated": args.enterprises, "seconds": time.perf_counter() - started}
    return {"generated": 0, "existing": count}


def step_items(args) -> dict:
    """Make the enterprises hold `args.items` items on average (regenerated when the count differs)."""
    from django.db import connection

    from enterprises import catalog
    from enterprises.models import Enterprise, Item, Source
    from policies.models import FactDefinition, ItemKind

    rng = random.Random(args.seed)
    ids = list(Enterprise.objects.order_by("pk").values_list("pk", flat=True))
    counts = [rng.randint(0, round(2 * args.items)) for _ in ids] if args.items else [0] * len(ids)
    wanted = sum(counts)
    existing = Item.objects.count()
    if existing == wanted:
        return {"generated": 0, "existing": existing, "kinds": ItemKind.objects.count()}
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE enterprises_item, enterprises_historicalitem")
    facts: dict[str, list] = {}
    for fact in FactDefinition.objects.exclude(item_kind="").filter(derived="stored").order_by("pk"):
        facts.setdefault(fact.item_kind, []).append(fact)
    kinds = sorted(facts)
    if not kinds:
        return {"generated": 0, "kinds": 0}
    started = time.perf_counter()
    batch: list = []
    for pk, count in zip(ids, counts, strict=True):
        for index in range(count):
            kind = rng.choice(kinds)
            values = {}
            for fact in facts[kind]:
                if rng.random() < 0.1:
                    continue  # some values unknown
                value = _random_value(rng, fact)
                if value is not None:
                    values[fact.code] = catalog.to_json(fact.type, value)
            batch.append(Item(enterprise_id=pk, kind=kind, title=f"{kind} {index + 1}", values=values,
                              source=Source.SELF_DECLARED))  # fmt: skip
        if len(batch) >= 20_000:
            Item.objects.bulk_create(batch)
            batch = []
    Item.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE enterprises_item")
    return {"generated": wanted, "kinds": len(kinds), "seconds": time.perf_counter() - started}


def _random_value(rng: random.Random, fact):
    """A plausible value of an item fact of any type (amounts up to 5000万, dates around the as-of date)."""
    from decimal import Decimal

    if fact.type == "bool":
        return rng.random() < 0.8
    if fact.type == "int":
        return rng.randint(0, 200)
    if fact.type == "money":
        return Decimal(rng.choice([0, 1, 10, 100, 500, 1000, 5000]) * rng.randint(1, 10_000))
    if fact.type == "decimal":
        return Decimal(rng.randint(0, 2_000_000)) / 100
    if fact.type == "date":
        return dt.date(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 1200))
    choices = fact.choice_values() if hasattr(fact, "choice_values") else []
    if fact.type == "enum":
        return rng.choice(choices) if choices else None
    if fact.type == "set":
        return frozenset(rng.sample(choices, rng.randint(0, len(choices)))) if choices else None
    if fact.type == "str":
        return "x"
    return None


def step_full(args) -> dict:
    from django.db import connection

    from matching import services

    if args.cold:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE matching_matchresult, matching_outofscope, matching_matchchange")
    as_of = args.as_of + dt.timedelta(days=1) if args.next_day else args.as_of
    started = time.perf_counter()
    run = services.evaluate_benefits(as_of=as_of, chunk_size=args.chunk_size, jobs=args.jobs, cause="bench")
    seconds = time.perf_counter() - started
    from enterprises.models import Item

    return {
        "items": Item.objects.count(),
        "seconds": seconds,
        "peak_mb": peak_mb(),
        "enterprises": run.enterprises,
        "benefits": run.benefits,
        "pairs": run.evaluated,
        "written": run.written,
    }


def step_single(args) -> dict:
    from enterprises.models import Enterprise
    from matching import services
    from matching.models import MatchResult, OutOfScope

    ids = list(Enterprise.objects.values_list("pk", flat=True))
    sample = random.Random(args.seed).sample(ids, min(args.single, len(ids)))
    timings: dict[str, list[float]] = {"current": [], "absent": []}
    for pk in sample:
        started = time.perf_counter()
        services.evaluate_enterprise(enterprise_id=pk, as_of=args.as_of, cause="bench")
        timings["current"].append(time.perf_counter() - started)
    MatchResult.objects.filter(enterprise_id__in=sample).delete()
    OutOfScope.objects.filter(enterprise_id__in=sample).delete()
    for pk in sample:
        started = time.perf_counter()
        services.evaluate_enterprise(enterprise_id=pk, as_of=args.as_of, cause="bench")
        timings["absent"].append(time.perf_counter() - started)
    return {
        key: {"median_ms": 1000 * statistics.median(v), "p95_ms": 1000 * _p95(v)}
        for key, v in timings.items()
    }


def step_drain(args) -> dict:
    """The worker's part of a save (`--step drain`, not in the table): one enterprise marked as a
    save marks it (`figures`: the benefits reading yearly figures; `new`: every benefit), then one
    jobs.drain_enterprise_changes; median and p95 over `--single` enterprises."""
    from django.utils import timezone

    from enterprises.models import Enterprise, EnterpriseChange
    from matching import jobs

    ids = list(Enterprise.objects.values_list("pk", flat=True))
    sample = random.Random(args.seed).sample(ids, min(args.single, len(ids)))
    EnterpriseChange.objects.all().delete()
    figures = {}
    for source in ("figures", "new"):
        timings = []
        for pk in sample:
            EnterpriseChange.objects.create(enterprise_id=pk, source=source, marked_at=timezone.now())
            started = time.perf_counter()
            jobs.drain_enterprise_changes(as_of=args.as_of)
            timings.append(time.perf_counter() - started)
        figures[source] = {"median_ms": 1000 * statistics.median(timings), "p95_ms": 1000 * _p95(timings)}
    return figures


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def step_baseline(args) -> dict:
    from json_logic import jsonLogic

    from bench.baseline import to_json_data, to_json_logic
    from enterprises.facts import facts_table
    from enterprises.models import Enterprise
    from matching import selectors
    from matching.engine import FactColumns, evaluate_table, validity_on

    catalog = selectors.catalog()
    specs = [s for s in selectors.benefit_specs() if validity_on(s, args.as_of) == "in_force"]
    ids = list(Enterprise.objects.order_by("pk").values_list("pk", flat=True)[: args.baseline_sample])
    table = facts_table(Enterprise.objects.filter(pk__in=ids), args.as_of)
    n = len(table.enterprise_ids)

    started = time.perf_counter()
    columns = FactColumns(table.columns, n, catalog, table.items)
    ours = [evaluate_table(spec, columns, args.as_of) for spec in specs]
    our_seconds = time.perf_counter() - started

    compiled = selectors.policy_set().compiled
    rules = [to_json_logic(compiled[spec.row_id].root) for spec in specs]
    rows = to_json_data(table.columns, n)
    started = time.perf_counter()
    met = 0
    for row in rows:
        for rule in rules:
            met += bool(jsonLogic(rule, row)) if rule is not None else 1
    their_seconds = time.perf_counter() - started
    return {
        "enterprises": n,
        "benefits": len(specs),
        "ours_seconds": our_seconds,
        "baseline_seconds": their_seconds,
        "ours_met": int(sum(int((r.status >= 3).sum()) for r in ours)),
        "baseline_true": met,
    }


def step_facts(args) -> dict:
    """facts_table alone (enterprises/facts.py), chunked as the full run reads it, in one process."""
    from enterprises.facts import facts_table
    from enterprises.models import Enterprise
    from matching import selectors
    from matching.engine import facts_read, validity_on

    catalog = selectors.catalog()
    specs = [s for s in selectors.benefit_specs() if validity_on(s, args.as_of) == "in_force"]
    codes = facts_read(specs, catalog)
    ids = list(Enterprise.objects.order_by("pk").values_list("pk", flat=True))
    started = time.perf_counter()
    for start in range(0, len(ids), args.chunk_size):
        facts_table(ids[start : start + args.chunk_size], args.as_of, codes)
    return {"seconds": time.perf_counter() - started, "codes": len(codes)}


FACT_TABLES = [
    "enterprises_enterprise",
    "enterprises_yearlyfigure",
    "enterprises_recognition",
    "enterprises_project",
    "enterprises_factvalue",
    "enterprises_item",
]


def step_floor(args) -> dict:
    """The read floor: every fact and item row by binary COPY (what any loader must at least read),
    and, for comparison, the same rows fetched through the cursor (raw SQL, Python objects)."""
    import io

    from django.db import connection

    rows = copied = 0
    with connection.cursor() as cursor:
        for table in FACT_TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed table names
            rows += cursor.fetchone()[0]
        started = time.perf_counter()
        for table in FACT_TABLES:
            buffer = io.BytesIO()
            cursor.copy_expert(f"COPY {table} TO STDOUT (FORMAT binary)", buffer)
            copied += buffer.tell()
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        for table in FACT_TABLES:
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            cursor.fetchall()
        fetch = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": rows,
        "bytes": copied,
        "fetchall_seconds": fetch,
        "peak_mb": peak_mb(),
    }


def step_write_floor(args) -> dict:
    """The write floor: exactly the rows the cold run stored (the results table and the out-of-scope
    records, in their COPY text form, spooled to files first, untimed) written by COPY into UNLOGGED
    tables without indexes or triggers, over --jobs connections at once (each a contiguous share of
    the enterprises)."""
    import tempfile
    import threading

    import psycopg2
    from django.db import connection

    from matching.storage import COLUMNS, DIGEST_COLUMNS, DIGESTS, RESULTS, SCOPE, SCOPE_COLUMNS

    url = os.environ["DATABASE_URL"]
    tables = {
        RESULTS: ", ".join(COLUMNS),
        SCOPE: ", ".join(SCOPE_COLUMNS),
        DIGESTS: ", ".join(DIGEST_COLUMNS),
    }
    jobs = max(1, args.jobs)
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as folder, connection.cursor() as cursor:
        cursor.execute(f"SELECT min(enterprise_id), max(enterprise_id) FROM {RESULTS}")  # noqa: S608
        low, high = cursor.fetchone()
        if low is None:
            return {"seconds": 0.0, "rows": 0, "bytes": 0, "jobs": jobs}
        step = (high - low) // jobs + 1
        shares: list[list[tuple[str, Path]]] = [[] for _ in range(jobs)]
        for table, columns in tables.items():
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
            cursor.execute(f"DROP TABLE IF EXISTS bench_floor_{table}")
            cursor.execute(
                f"CREATE UNLOGGED TABLE bench_floor_{table} AS SELECT {columns} FROM {table} WITH NO DATA"
            )  # noqa: S608
            for n in range(jobs):
                path = Path(folder) / f"{table}{n}.copy"
                with open(path, "wb") as spool:
                    query = (
                        f"SELECT {columns} FROM {table} WHERE enterprise_id >= {low + n * step} "  # noqa: S608
                        f"AND enterprise_id < {low + (n + 1) * step} ORDER BY 1, 2"
                    )
                    cursor.copy_expert(f"COPY ({query}) TO STDOUT", spool)
                shares[n].append((table, path))
        size = sum(path.stat().st_size for share in shares for _table, path in share)
        connections = [psycopg2.connect(url) for _ in shares]

        def load(target, share) -> None:
            with target.cursor() as copy:
                for table, path in share:
                    with open(path, "rb") as spool:
                        copy.copy_expert(f"COPY bench_floor_{table} ({tables[table]}) FROM STDIN", spool)
            target.commit()

        threads = [threading.Thread(target=load, args=pair) for pair in zip(connections, shares, strict=True)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        for target in connections:
            target.close()
        loaded = total = heap = 0
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM bench_floor_{table}")  # noqa: S608
            loaded += cursor.fetchone()[0]
            cursor.execute(f"DROP TABLE bench_floor_{table}")
            cursor.execute(f"SELECT pg_total_relation_size('{table}'), pg_relation_size('{table}')")
            table_total, table_heap = cursor.fetchone()
            total, heap = total + table_total, heap + table_heap
    return {
        "seconds": seconds,
        "rows": sum(counts.values()),
        "result_rows": counts[RESULTS],
        "scope_rows": counts[SCOPE],
        "digest_rows": counts[DIGESTS],
        "loaded": loaded,
        "bytes": size,
        "jobs": jobs,
        "table_bytes": total,
        "heap_bytes": heap,
    }


def step_workers(args) -> dict:
    """A full re-evaluation as the deployment runs one (jobs.schedule_rerun: chunk tasks on the
    broker) with a real `celery worker` of --concurrency processes; seconds until the job is done."""
    from bench.background import start_worker, wait
    from matching import jobs
    from matching.models import JobRun

    queue = os.environ["CELERY_QUEUE"]  # set before django.setup (main)
    args.broker = args.broker_url
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    args.as_of = args.as_of.isoformat()
    worker = start_worker(args, queue)
    try:
        from matching import tasks

        tasks.ping.apply_async(args=["bench"], queue=queue)
        wait(lambda: JobRun.objects.filter(kind="ping", worker__endswith=":bench").exists(), 60, 0.1)
        # without digests every enterprise is evaluated and compared (nothing written): the CPU-bound
        # part that workers share; with them a warm run is mostly the database's source hashing
        from matching.models import ResultDigest

        ResultDigest.objects.all().delete()
        started = time.perf_counter()
        job = jobs.schedule_rerun(as_of=dt.date.fromisoformat(args.as_of))
        wait(lambda: JobRun.objects.filter(pk=job.pk, finished_at__isnull=False).exists(), 1800, 0.05)
        seconds = time.perf_counter() - started
        job.refresh_from_db()
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=60)
    return {
        "seconds": seconds,
        "concurrency": args.concurrency,
        "status": job.status,
        "enterprises": job.items,
        "chunks": job.chunks.count(),
    }


STEPS = {
    "setup": step_setup,
    "items": step_items,
    "full": step_full,
    "single": step_single,
    "drain": step_drain,
    "baseline": step_baseline,
    "facts": step_facts,
    "floor": step_floor,
    "write_floor": step_write_floor,
    "workers": step_workers,
}


# ------------------------------------------------------------------ orchestration


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of DATABASE_URL when it does not exist yet."""
    import psycopg2
    from psycopg2 import sql

    if not url.startswith(("postgres://", "postgresql://")):
        return
    try:
        psycopg2.connect(url).close()
    except psycopg2.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
        server, name = url.rsplit("/", 1)
        connection = psycopg2.connect(f"{server}/postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name.split("?")[0])))
        connection.close()


def run_step(name: str, argv: list[str], extra: list[str] | None = None, *, optional: bool = False) -> dict:
    """One step in a fresh process; its figures are printed as they come (a later failure loses
    nothing). An optional step that fails is reported and left out of the table."""
    command = [sys.executable, __file__, "--step", name, *argv, *(extra or [])]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-2000:] + result.stderr[-4000:])
        if optional:
            print(f"  step {name} failed (left out)", flush=True)
            return {}
        raise SystemExit(f"step {name} failed")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"  {name} {' '.join(extra or [])}: {json.dumps(figures)}", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2025, 6, 1))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, default=5000)
    parser.add_argument("--single", type=int, default=200, help="enterprises timed one by one")
    parser.add_argument("--baseline-sample", type=int, default=10_000)
    parser.add_argument(
        "--workers",
        default="1,2",
        help="worker process counts for the full run through Celery (comma-separated; empty: skip)",
    )
    parser.add_argument(
        "--broker-url", default=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/13")
    )
    parser.add_argument("--concurrency", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--items", type=float, default=0, help="items per enterprise on average (0: none)")
    parser.add_argument("--step", choices=sorted(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--cold", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--next-day", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.step:
        if args.step == "workers":  # the tasks go to a real worker on Redis, on a queue of their own
            import uuid

            os.environ.update(
                CELERY_BROKER_URL=args.broker_url,
                CELERY_QUEUE=f"bench-{uuid.uuid4().hex[:8]}",
                MATCHING_TODAY=args.as_of.isoformat(),
                LOG_LEVEL="WARNING",
            )
        django_setup()
        print(json.dumps(STEPS[args.step](args), default=str))
        return

    argv = [
        f"--enterprises={args.enterprises}", f"--seed={args.seed}", f"--as-of={args.as_of}", f"--jobs={args.jobs}",
        f"--chunk-size={args.chunk_size}", f"--single={args.single}", f"--baseline-sample={args.baseline_sample}",
        f"--broker-url={args.broker_url}",
        f"--items={args.items}",
    ]  # fmt: skip
    database = os.environ.get("DATABASE_URL", "")
    ensure_database(database)
    print(
        f"matching benchmark on {database.rsplit('/', 1)[-1] or 'sqlite'}: {args.enterprises} enterprises, jobs={args.jobs}"
    )
    setup = run_step("setup", argv)
    print(f"  setup: {setup}")
    items = run_step("items", argv)
    print(f"  items: {items}")
    cold = run_step("full", argv, ["--cold"])
    write_floor = run_step("write_floor", argv)
    warm = run_step("full", argv)
    next_day = run_step("full", argv, ["--next-day"])
    floor = run_step("floor", argv)
    workers = {
        n: run_step("workers", argv, [f"--concurrency={n}"])
        for n in map(int, filter(None, args.workers.split(",")))
    }
    single = run_step("single", argv)
    baseline = run_step("baseline", argv, optional=True)
    facts = run_step("facts", argv)

    read, write = floor["seconds"], write_floor["seconds"]
    mb = 1024 * 1024
    rows = [
        ("1. full re-evaluation, cold (all results written)", f"{cold['seconds']:.1f} s, peak {cold['peak_mb']:.0f} MB", "≤ 3 × (read + write floor)"),
        ("   pairs evaluated / results written / items", f"{cold['pairs']:,} / {cold['written']:,} / {cold['items']:,}", ""),
        ("   rows and bytes stored (table with indexes / heap / COPY text)", f"{write_floor.get('result_rows', 0):,} result rows + {write_floor.get('scope_rows', 0):,} out-of-scope records + {write_floor.get('digest_rows', 0):,} digests, {write_floor['table_bytes'] / mb:,.0f} / {write_floor['heap_bytes'] / mb:,.0f} / {write_floor['bytes'] / mb:,.0f} MB", ""),
        ("1. full re-evaluation, warm (inputs unchanged)", f"{warm['seconds']:.1f} s, peak {warm['peak_mb']:.0f} MB, written {warm['written']:,}", "≤ 3 × read floor"),
        ("   the next day (every source hash moves: facts derived again)", f"{next_day['seconds']:.1f} s, peak {next_day['peak_mb']:.0f} MB, written {next_day['written']:,}", ""),
        ("4. read floor: every fact and item row, binary COPY", f"{read:.2f} s ({floor['rows']:,} rows, {floor['bytes'] / mb:,.0f} MB)", ""),
        ("   the same rows by cursor fetchall", f"{floor['fetchall_seconds']:.2f} s", ""),
        (f"4. write floor: the stored rows by COPY into an UNLOGGED table ({write_floor['jobs']} conn.)", f"{write:.1f} s", ""),
        ("   cold / (read + write floor)", f"{cold['seconds'] / (read + write):.1f}×", "≤ 3×"),
        ("   warm / read floor", f"{warm['seconds'] / read:.1f}×", "≤ 3×"),
    ]  # fmt: skip
    for n, run in workers.items():
        rows.append((f"5. full run as chunk tasks, celery worker ×{n} ({run['chunks']} chunks, no digests)", f"{run['seconds']:.1f} s, job {run['status']}", ""))  # fmt: skip
    if 1 in workers and 2 in workers:
        rows.append(("   1 → 2 worker processes", f"{workers[1]['seconds'] / workers[2]['seconds']:.2f}× faster", "≈ 2×"))  # fmt: skip
    rows += [
        ("2. one enterprise, results current", f"median {single['current']['median_ms']:.0f} ms, p95 {single['current']['p95_ms']:.0f} ms", "p95 ≤ 30 ms"),
        ("2. one enterprise, results absent", f"median {single['absent']['median_ms']:.0f} ms, p95 {single['absent']['p95_ms']:.0f} ms", ""),
        (f"   facts_table alone ({facts['codes']} facts, 1 process)", f"{facts['seconds']:.1f} s", ""),
    ]  # fmt: skip
    if baseline:
        speedup = baseline["baseline_seconds"] / baseline["ours_seconds"]
        rows.append((
            f"3. vs json-logic-qubit ({baseline['enterprises']:,} × {baseline['benefits']} benefits)",
            f"ours {baseline['ours_seconds']:.2f} s / its {baseline['baseline_seconds']:.1f} s = 1/{speedup:.0f}",
            "≥ 20× faster",
        ))  # fmt: skip
    print(f"  load average at the end: {os.getloadavg()}")
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    print(f"\n{'measure'.ljust(width)}  {'result'.ljust(value_width)}  target")
    for measure, value, target in rows:
        print(f"{measure.ljust(width)}  {value.ljust(value_width)}  {target}")


if __name__ == "__main__":
    main()
