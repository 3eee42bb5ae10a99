from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepliesConfig(AppConfig):
    name = "refunddesk.replies"
    label = "replies"
    verbose_name = _("Canned replies")
