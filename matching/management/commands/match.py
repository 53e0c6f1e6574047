"""manage.py match [--enterprise ID] [--benefit KEY] [--as-of DATE]: (re)evaluate and store results."""

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from enterprises.models import Enterprise
from matching import selectors, services


class Command(BaseCommand):
    help = "评估企业与扶持项目的匹配结果并保存（只重写输入有变化的结果）"

    def add_arguments(self, parser):
        parser.add_argument("--enterprise", type=int, help="只评估这家企业（ID）")
        parser.add_argument(
            "--benefit",
            help="只评估这个扶持项目（全局标识：文件标识/条款号/项目标识）",
        )
        parser.add_argument("--as-of", type=dt.date.fromisoformat, help="评估日期 YYYY-MM-DD，默认今天")
        parser.add_argument("--chunk-size", type=int, default=5000)
        parser.add_argument("--jobs", type=int, default=1, help="并行进程数（仅 PostgreSQL）")
        parser.add_argument("--cause", default="command")

    def handle(self, *args, enterprise, benefit, as_of, chunk_size, jobs, cause, **options):
        as_of = as_of or timezone.localdate()
        benefit_ids = None
        if benefit:
            matches = [spec.benefit_id for spec in selectors.benefit_specs() if spec.global_key == benefit]
            if not matches:
                raise CommandError(f"没有这个扶持项目：{benefit}")
            benefit_ids = matches
        if enterprise is not None and not Enterprise.objects.filter(pk=enterprise).exists():
            raise CommandError(f"没有这家企业：{enterprise}")
        started = time.monotonic()
        if enterprise is not None and benefit_ids is None:
            verdicts = services.evaluate_enterprise(enterprise_id=enterprise, as_of=as_of, cause=cause)
            self.stdout.write(self.style.SUCCESS(f"企业 {enterprise}：评估 {len(verdicts)} 个现行扶持项目"))
            return
        total = 1 if enterprise is not None else Enterprise.objects.count()
        with tqdm(total=total, unit="企业", disable=None, file=self.stderr) as bar:
            run = services.evaluate_benefits(
                as_of=as_of,
                benefit_ids=benefit_ids,
                enterprise_ids=None if enterprise is None else [enterprise],
                chunk_size=chunk_size,
                jobs=jobs,
                cause=cause,
                progress=bar.update,
            )
        for error in run.broken.values():
            self.stderr.write(self.style.WARNING(f"已跳过（条件无法编译）：{error}"))
        self.stdout.write(
            self.style.SUCCESS(
                f"评估 {run.enterprises} 家企业 × {run.benefits} 个扶持项目（{run.evaluated} 对），"
                f"写入 {run.written}，删除 {run.removed}，变化 {run.changes}，用时 {time.monotonic() - started:.1f} 秒"
            )
        )
