from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """The built-in test-mode gateway: its own sessions, intents, refunds and event outbox."""

    name = "paylinks.gateways.sandbox"
    label = "sandbox"
    verbose_name = "Sandbox gateway"
    default_auto_field = "django.db.models.BigAutoField"
