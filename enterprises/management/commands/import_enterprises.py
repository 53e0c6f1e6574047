"""manage.py import_enterprises FILE [--dry-run]: CSV/Excel import, all rows or none."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from enterprises import profile_files


class Command(BaseCommand):
    help = "Import enterprises from a .csv or .xlsx file (validated first; all rows are written or none)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--dry-run", action="store_true", help="validate and report, write nothing")
        parser.add_argument("--user", help="username recorded in the history as the importer")
        parser.add_argument("--source", default="register", choices=["register", "staff", "self_declared"])

    def handle(self, *args, path: str, dry_run: bool, user: str | None, source: str, **options):
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"文件不存在：{path}")
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"用户不存在：{user}")
        content = file.read_bytes()
        if dry_run:
            preview = profile_files.preview_import(content, file.name)
        else:
            preview = profile_files.apply_import(content, file.name, actor=actor, source=source)
        for error in preview.errors:
            self.stderr.write(error)
        for row in preview.rows:
            status = "；".join(row.errors) if row.errors else "通过"
            action = "新增" if row.action == "create" else "更新"
            self.stdout.write(f"第{row.line}行 {row.credit_code} {row.name} [{action}] {status}")
        if not preview.ok:
            raise CommandError(f"校验未通过：共 {preview.error_count} 处错误，未写入任何数据。")
        verb = "校验通过（未写入，--dry-run）" if dry_run else "已导入"
        self.stdout.write(self.style.SUCCESS(f"{verb}：{len(preview.rows)} 行"))
