"""The matching benchmark: `make bench` (or `python bench/run.py --help`). Prints a table; not a test.

On the database of DATABASE_URL (make bench: portal_bench): migrate, load the policies and generate
N enterprises when the count differs, then measure, each step in a fresh process so that its peak
memory is its own:
  1. full re-evaluation of N enterprises × all benefits, results written: cold (empty results table:
     every row written) and warm (inputs unchanged: fingerprints compared, nothing written);
  2. re-evaluation of one enterprise (evaluate_enterprise): median and p95, results current and
     results absent (every row written);
  3. the same conditions and data, per enterprise, with json-logic-qubit (a well-known rule library)
     on a sample, against evaluate_table on the same sample;
  4. the floor: reading all the fact rows of the N enterprises from PostgreSQL with raw SQL.

`--items A` gives the enterprises A items on average (0 to 2A each, uniformly; kinds and values drawn
from the item kinds and item facts of the loaded catalog), so per-item benefits are evaluated over
item rows; `--items 0` (the default) removes generated items again. `--measures` picks the steps.
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
            cursor.execute("TRUNCATE matching_matchresult, matching_matchchange")
    started = time.perf_counter()
    run = services.evaluate_benefits(
        as_of=args.as_of, chunk_size=args.chunk_size, jobs=args.jobs, cause="bench"
    )
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
    from matching.models import MatchResult

    ids = list(Enterprise.objects.values_list("pk", flat=True))
    sample = random.Random(args.seed).sample(ids, min(args.single, len(ids)))
    timings: dict[str, list[float]] = {"current": [], "absent": []}
    for pk in sample:
        started = time.perf_counter()
        services.evaluate_enterprise(enterprise_id=pk, as_of=args.as_of, cause="bench")
        timings["current"].append(time.perf_counter() - started)
    MatchResult.objects.filter(enterprise_id__in=sample).delete()
    for pk in sample:
        started = time.perf_counter()
        services.evaluate_enterprise(enterprise_id=pk, as_of=args.as_of, cause="bench")
        timings["absent"].append(time.perf_counter() - started)
    return {
        key: {"median_ms": 1000 * statistics.median(v), "p95_ms": 1000 * _p95(v)}
        for key, v in timings.items()
    }


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

    rules = [to_json_logic(spec.condition) for spec in specs]
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


def step_floor(args) -> dict:
    from django.db import connection

    tables = [
        "enterprises_enterprise",
        "enterprises_yearlyfigure",
        "enterprises_recognition",
        "enterprises_project",
        "enterprises_factvalue",
        "enterprises_item",
    ]
    rows = 0
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            rows += len(cursor.fetchall())
    return {"seconds": time.perf_counter() - started, "rows": rows}


STEPS = {
    "setup": step_setup,
    "items": step_items,
    "full": step_full,
    "single": step_single,
    "baseline": step_baseline,
    "facts": step_facts,
    "floor": step_floor,
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


def run_step(name: str, argv: list[str], extra: list[str] | None = None) -> dict:
    command = [sys.executable, __file__, "--step", name, *argv, *(extra or [])]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise SystemExit(f"step {name} failed")
    return json.loads(result.stdout.strip().splitlines()[-1])


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
    parser.add_argument("--items", type=float, default=0, help="items per enterprise on average (0: none)")
    parser.add_argument(
        "--measures", default="full,single,baseline,floor", help="which of full,single,baseline,floor to run"
    )
    parser.add_argument("--step", choices=sorted(STEPS), help=argparse.SUPPRESS)
    parser.add_argument("--cold", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.step:
        django_setup()
        print(json.dumps(STEPS[args.step](args), default=str))
        return

    argv = [
        f"--enterprises={args.enterprises}", f"--seed={args.seed}", f"--as-of={args.as_of}", f"--jobs={args.jobs}",
        f"--chunk-size={args.chunk_size}", f"--single={args.single}", f"--baseline-sample={args.baseline_sample}",
        f"--items={args.items}",
    ]  # fmt: skip
    measures = set(args.measures.split(","))
    database = os.environ.get("DATABASE_URL", "")
    ensure_database(database)
    print(
        f"matching benchmark on {database.rsplit('/', 1)[-1] or 'sqlite'}: {args.enterprises} enterprises, jobs={args.jobs}"
    )
    setup = run_step("setup", argv)
    print(f"  setup: {setup}")
    items = run_step("items", argv)
    print(f"  items: {items}")
    rows = []
    if "full" in measures:
        cold = run_step("full", argv, ["--cold"])
        warm = run_step("full", argv)
        rows += [
            ("1. full re-evaluation, cold (all results written)", f"{cold['seconds']:.1f} s, peak {cold['peak_mb']:.0f} MB", "≤ 60 s"),
            ("   pairs evaluated / results written / items", f"{cold['pairs']:,} / {cold['written']:,} / {cold['items']:,}", ""),
            ("1. full re-evaluation, warm (inputs unchanged)", f"{warm['seconds']:.1f} s, peak {warm['peak_mb']:.0f} MB, written {warm['written']:,}", "≤ 60 s"),
        ]  # fmt: skip
    if "single" in measures:
        single = run_step("single", argv)
        rows += [
            ("2. one enterprise, results current", f"median {single['current']['median_ms']:.0f} ms, p95 {single['current']['p95_ms']:.0f} ms", "median ≤ 50 ms"),
            ("2. one enterprise, results absent", f"median {single['absent']['median_ms']:.0f} ms, p95 {single['absent']['p95_ms']:.0f} ms", ""),
        ]  # fmt: skip
    if "baseline" in measures:
        baseline = run_step("baseline", argv)
        speedup = baseline["baseline_seconds"] / baseline["ours_seconds"]
        rows.append((
            f"3. vs json-logic-qubit ({baseline['enterprises']:,} × {baseline['benefits']} benefits)",
            f"ours {baseline['ours_seconds']:.2f} s / its {baseline['baseline_seconds']:.1f} s = 1/{speedup:.0f}",
            "≥ 20× faster",
        ))  # fmt: skip
    if "floor" in measures:
        facts = run_step("facts", argv)
        floor = run_step("floor", argv)
        rows += [
            ("4. floor: read all fact rows (raw SQL)", f"{floor['seconds']:.1f} s ({floor['rows']:,} rows)", ""),
            (f"   facts_table alone ({facts['codes']} facts, 1 process)", f"{facts['seconds']:.1f} s", ""),
        ]  # fmt: skip
        if "full" in measures:
            rows += [
                ("   warm full / floor", f"{warm['seconds'] / floor['seconds']:.1f}×", "≤ 5×"),
                ("   cold full / floor", f"{cold['seconds'] / floor['seconds']:.1f}×", ""),
            ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    print(f"\n{'measure'.ljust(width)}  {'result'.ljust(value_width)}  target")
    for measure, value, target in rows:
        print(f"{measure.ljust(width)}  {value.ljust(value_width)}  {target}")


if __name__ == "__main__":
    main()
