"""manage.py generate_enterprises N --seed S: N synthetic enterprises for scale tests."""

import time

from django.core.management.base import BaseCommand, CommandError

from enterprises.generator import generate


class Command(BaseCommand):
    help = "Create N synthetic, plausible enterprises (deterministic for a seed) with bulk inserts."

    def add_arguments(self, parser):
        parser.add_argument("count", type=int)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--without-history", action="store_true", help="skip the history rows (faster)")

    def handle(self, *args, count: int, seed: int, batch_size: int, without_history: bool, **options):
        if count < 1:
            raise CommandError("N 必须为正整数 / N must be positive")
        started = time.monotonic()

        def progress(done: int) -> None:
            self.stdout.write(f"  {done}/{count}  {time.monotonic() - started:.1f}s")

        written = generate(
            count, seed=seed, batch_size=batch_size, with_history=not without_history, progress=progress
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"已生成 {written} 家企业，用时 {time.monotonic() - started:.1f} 秒 (seed={seed})"
            )
        )
