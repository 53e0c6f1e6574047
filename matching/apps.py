from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "matching"
    verbose_name = "匹配"

    def ready(self) -> None:
        from matching import receivers

        receivers.connect()
