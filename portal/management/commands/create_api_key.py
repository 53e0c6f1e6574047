"""Issue an API key from the command line; the full key is printed once and never stored."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from enterprises.models import Enterprise
from portal.api import services
from portal.models import Scope


class Command(BaseCommand):
    help = "Create an API key with scopes (optionally tied to a user, or limited to enterprises); prints it once."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="what the key is for, e.g. 某银行对接")
        parser.add_argument(
            "--scope", action="append", dest="scopes", required=True, choices=Scope.values, help="repeatable"
        )
        parser.add_argument(
            "--enterprise", action="append", type=int, default=[], help="limit to this id (repeatable)"
        )
        parser.add_argument(
            "--user", help="username the key acts as (an enterprise user's key sees its own company)"
        )
        parser.add_argument("--created-by", help="username of the staff member issuing the key")
        parser.add_argument("--rate", default="", help="rate limit, e.g. 600/min (default: the site's)")

    def handle(self, *args, **options):
        users = get_user_model().objects
        user = self._user(users, options["user"])
        created_by = self._user(users, options["created_by"])
        missing = set(options["enterprise"]) - set(
            Enterprise.objects.filter(pk__in=options["enterprise"]).values_list("pk", flat=True)
        )
        if missing:
            raise CommandError(f"no enterprise with id {', '.join(map(str, sorted(missing)))}")
        try:
            key, raw_key = services.issue_api_key(
                name=options["name"],
                scopes=options["scopes"],
                created_by=created_by,
                user=user,
                enterprise_ids=options["enterprise"],
                rate_limit=options["rate"],
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        self.stderr.write(
            f"API key #{key.pk} “{key.name}” ({', '.join(key.scopes)}) — shown once, store it now:"
        )
        self.stdout.write(raw_key)

    @staticmethod
    def _user(users, username: str | None):
        if not username:
            return None
        user = users.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        return user
