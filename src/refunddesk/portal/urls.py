from django.urls import path

from refunddesk.portal.views import track

app_name = "portal"

urlpatterns = [
    path("track", track.track, name="track"),
]
