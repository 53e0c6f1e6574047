"""Everything `make run` needs, idempotent: migrate, load policies and demo data, match, accounts."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand
from django.db import transaction

from portal.roles import ensure_roles

# Demo accounts for the embedded default only; printed on screen by design.
DEMO_STAFF = [
    # username, password, group, superuser
    ("admin", "admin-demo-2026", None, True),
    ("reviewer", "reviewer-demo-2026", "reviewer", False),
]

# Steps provided by the apps, run in this order when the app defines them.
DATA_STEPS = [
    ("load_policies", "政策文本"),
    ("load_calls", "申报通知"),
    ("load_demo", "演示企业"),
    ("load_demo_calls", "演示申报通知"),
    ("match", "匹配结果"),
]
# Demo enterprises and their accounts: never outside the embedded development mode.
DEMO_STEPS = {"load_demo", "load_demo_calls"}
# Demo steps that act as the demo accounts, run once they exist (embedded development mode only).
AFTER_STAFF_STEPS = [("load_demo_grants", "演示申报与拨付")]


class Command(BaseCommand):
    help = (
        "Migrate, load every policy fixture and the demo enterprises, compute matches, create demo accounts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--skip-match", action="store_true", help="do not compute matches")

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("数据库已迁移 / database migrated")
        available = get_commands()
        demo = settings.EMBEDDED
        for name, label in DATA_STEPS:
            if name == "match" and options["skip_match"]:
                continue
            if name in DEMO_STEPS and not demo:
                continue
            if name in available:
                self.stdout.write(f"→ {label} ({name})")
                call_command(name, stdout=self.stdout, stderr=self.stderr)
        if demo:
            self.ensure_staff()
            for name, label in AFTER_STAFF_STEPS:
                if name in available:
                    self.stdout.write(f"→ {label} ({name})")
                    call_command(name, stdout=self.stdout, stderr=self.stderr)
        else:
            ensure_roles()
            self.stdout.write(
                "未创建演示账号：仅在嵌入式开发模式 (PORTAL_DEV=1) 下创建 / "
                "no demo accounts: they exist only in the embedded development mode (PORTAL_DEV=1); "
                "create staff with `manage.py createsuperuser`."
            )

    @transaction.atomic
    def ensure_staff(self) -> None:
        groups = ensure_roles()
        user_model = get_user_model()
        self.stdout.write("\n演示账号 / demo accounts:")
        for username, password, group, superuser in DEMO_STAFF:
            user, created = user_model.objects.get_or_create(username=username)
            if created:
                user.set_password(password)
            user.is_staff = True
            user.is_superuser = superuser
            user.save()
            if group:
                user.groups.add(groups[group])
            self.stdout.write(f"  {username:<12} 密码 {password:<22} {'管理员' if superuser else '审核员'}")
