"""The console's addresses, under /console/. Each area's view module lists its own."""

from refunddesk.console.views import (
    api_keys,
    assist,
    bulk,
    calendars,
    case,
    case_actions,
    compensation,
    inbox,
    mail,
    payouts,
    policies,
    policy_governance,
    policy_lab,
    queue,
    recourse,
    replies,
    reports,
    settlements,
    staff,
    webhooks,
)

app_name = "console"

urlpatterns = [*queue.urls, *bulk.urls, *case.urls, *case_actions.urls, *assist.urls,
               *policies.urls, *policy_governance.urls, *policy_lab.urls, *payouts.urls,
               *settlements.urls, *api_keys.urls, *webhooks.urls,
               *calendars.urls, *staff.urls, *recourse.urls, *replies.urls,
               *mail.urls, *inbox.urls, *reports.urls, *compensation.urls]
