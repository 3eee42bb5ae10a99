from django.urls import path

from refunddesk.payouts import views

app_name = "payouts"

urlpatterns = [
    path("gateways/<slug:name>/notify", views.notify, name="notify"),
]
