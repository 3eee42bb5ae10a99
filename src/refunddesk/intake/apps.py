from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "refunddesk.intake"
    label = "intake"
    verbose_name = _("E-mail intake")

    def ready(self) -> None:
        from django.core import checks

        from refunddesk.intake.checks import mailboxes_are_readable

        checks.register(mailboxes_are_readable)
