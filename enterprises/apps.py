from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnterprisesConfig(AppConfig):
    name = "enterprises"
    verbose_name = _("企业")

    def ready(self) -> None:
        # register the tasks, which imports.py asks for by name after commit (policies/aftercommit.py)
        from enterprises import tasks  # noqa: F401
