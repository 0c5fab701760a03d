from django.apps import AppConfig


class PaylinksConfig(AppConfig):
    name = "paylinks"
    verbose_name = "Paylinks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the start-up checks)
        from .auth import signals  # noqa: F401  (sign-ins and failures to the audit log)
