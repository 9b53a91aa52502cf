from django.apps import AppConfig


class WizardConfig(AppConfig):
    name = "wizard"
    verbose_name = "Wizard"

    def ready(self) -> None:
        # Registers the system checks (shared rate-limit cache, secret key).
        from . import checks  # noqa: F401
