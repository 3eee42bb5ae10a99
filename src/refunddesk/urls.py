from django.contrib import admin
from django.urls import include, path

from refunddesk.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", core_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("console/", include("refunddesk.console.urls")),
    path("", include("refunddesk.portal.urls")),
]
