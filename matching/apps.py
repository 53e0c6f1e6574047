from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MatchingConfig(AppConfig):
    name = "matching"
    verbose_name = _("匹配")

    def ready(self) -> None:
        from matching import receivers

        receivers.connect()
