from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecourseConfig(AppConfig):
    name = "refunddesk.recourse"
    label = "recourse"
    verbose_name = _("After a final decision")
