"""What the console remembers for each staff member: the queue filters they used last and
the queue views they saved. Kept in the database, not the session, so both survive logging
out and logging in on another machine."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

QUERY_LENGTH = 2000  # the queue's filters as a query string; a real one is far shorter


class LastQueueFilters(models.Model):
    """The filters and sort of the last queue a staff member looked at (no page position):
    the bare queue address shows them again."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("staff member"),
                                on_delete=models.CASCADE, primary_key=True,
                                related_name="last_queue_filters")
    query = models.CharField(_("filters"), max_length=QUERY_LENGTH)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("last queue filters")
        verbose_name_plural = _("last queue filters")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.query}"


class SavedQueueView(models.Model):
    """A queue view a staff member saved for themselves: a name and the filters."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("staff member"),
                              on_delete=models.CASCADE, related_name="queue_views")
    name = models.CharField(_("name"), max_length=60)
    query = models.CharField(_("filters"), max_length=QUERY_LENGTH)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("saved queue view")
        verbose_name_plural = _("saved queue views")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"],
                                               name="one_queue_view_name_per_owner")]

    def __str__(self) -> str:
        return self.name
