from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MatchingConfig(AppConfig):
    name = "matching"
    verbose_name = _("匹配")

    def ready(self) -> None:
        # register the tasks, which the writer apps ask for by name after commit (policies/aftercommit.py)
        from matching import tasks  # noqa: F401
