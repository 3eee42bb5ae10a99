"""The console's addresses, under /console/. Each area's view module lists its own."""

from refunddesk.console.views import (
    api_keys,
    assist,
    calendars,
    case,
    inbox,
    payouts,
    policies,
    queue,
    recourse,
    settlements,
    staff,
    webhooks,
)

app_name = "console"

urlpatterns = [*queue.urls, *case.urls, *assist.urls, *policies.urls, *payouts.urls,
               *settlements.urls, *api_keys.urls, *webhooks.urls,
               *calendars.urls, *staff.urls, *recourse.urls, *inbox.urls]
