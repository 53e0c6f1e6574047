"""manage.py load_demo: the demo enterprises (fixtures/demo/) and the demo enterprise account."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from enterprises.demo import DEMO_USER, load_demo_file
from enterprises.services import link_user


class Command(BaseCommand):
    help = "Load the demo enterprises (upsert by credit code) and the demo enterprise user."

    @transaction.atomic
    def handle(self, *args, **options):
        try:
            report = load_demo_file()
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(f"演示企业：新增 {report.created}，更新 {report.updated}，未变 {report.unchanged}")
        username, password = DEMO_USER
        user, created = get_user_model().objects.get_or_create(username=username)
        if created:
            user.set_password(password)
            user.save()
        link_user(user=user, enterprise_id=report.first.pk)
        self.stdout.write("\n演示企业账号 / demo enterprise account:")
        self.stdout.write(f"  {username:<12} 密码 {password:<22} 企业用户（{report.first.name}）")
