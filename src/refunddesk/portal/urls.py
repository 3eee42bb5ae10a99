from django.urls import path

from refunddesk.portal.views import account, apply, case, documents, track

app_name = "portal"

urlpatterns = [
    path("track", track.track, name="track"),
    path("account/", account.account, name="account"),
    path("account/subscriptions/<str:subscription_id>/cancel-auto-renewal",
         account.cancel_auto_renewal, name="cancel_auto_renewal"),
    path("orders/<str:order_id>/refund", apply.apply, name="apply"),
    path("orders/<str:order_id>/quote", apply.quote, name="quote"),
    path("refunds/", case.refunds, name="refunds"),
    path("refunds/<str:tracking_number>", case.case_page, name="case"),
    path("refunds/<str:tracking_number>/received", apply.received, name="received"),
    path("refunds/<str:tracking_number>/messages", case.post_message, name="post_message"),
    path("refunds/<str:tracking_number>/documents", case.add_documents, name="add_documents"),
    path("refunds/<str:tracking_number>/documents/<int:document_id>", documents.download,
         name="document"),
    path("refunds/<str:tracking_number>/supplement", case.supplement, name="supplement"),
    path("refunds/<str:tracking_number>/appeal", case.appeal, name="appeal"),
    path("refunds/<str:tracking_number>/withdraw", case.withdraw, name="withdraw"),
]
