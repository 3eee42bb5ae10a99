from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PayoutsConfig(AppConfig):
    name = "refunddesk.payouts"
    verbose_name = _("Payouts")

    def ready(self) -> None:
        from django.core import checks

        from refunddesk.payouts.checks import gateways_are_usable

        checks.register(gateways_are_usable)
