"""The console's addresses, under /console/. Each area's view module lists its own."""

from refunddesk.console.views import assist, case, policies, queue

app_name = "console"

urlpatterns = [*queue.urls, *case.urls, *assist.urls, *policies.urls]
