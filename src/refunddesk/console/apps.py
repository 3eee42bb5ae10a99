from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsoleConfig(AppConfig):
    name = "refunddesk.console"
    verbose_name = _("Agent console")

    def ready(self) -> None:
        from refunddesk.console.list_exports import register_list_exports

        # The reports app builds exports without knowing the console's pages; the console
        # tells it how its lists are read.
        register_list_exports()
