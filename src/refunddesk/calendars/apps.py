from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CalendarsConfig(AppConfig):
    name = "refunddesk.calendars"
    label = "calendars"
    verbose_name = _("Business calendars")

    def ready(self) -> None:
        from django.core import checks

        from refunddesk.calendars.checks import calendars_cover_the_horizon

        checks.register(calendars_cover_the_horizon)
