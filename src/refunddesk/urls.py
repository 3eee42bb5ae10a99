from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from refunddesk.api.api import api
from refunddesk.core import views as core_views

# The administration logs in through allauth too, so staff cannot skip their second factor
# by using Django's own admin login form.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("", core_views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", core_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("console/", include("refunddesk.console.urls")),
    path("api/v1/", api.urls),
    path("", include("refunddesk.payouts.urls")),
    path("", include("refunddesk.portal.urls")),
]
