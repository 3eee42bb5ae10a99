from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "refunddesk.reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from refunddesk.reports.percentile import add_sqlite_percentile

        # Database plumbing, not business logic: SQLite has no percentile aggregate, so each
        # of its connections gets ours (PostgreSQL has percentile_cont built in).
        connection_created.connect(add_sqlite_percentile,
                                   dispatch_uid="refunddesk-sqlite-percentile")
