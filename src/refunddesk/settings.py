"""Django settings, read from the environment (every variable: docs/configuration.md)."""

import contextlib
import os
import secrets
from pathlib import Path

import dj_database_url
import django_stubs_ext
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from refunddesk.paths import PACKAGE_DIR, VAR_DIR

# Django's generic classes (ModelAdmin[User], ModelForm[…]) accept their type argument at
# run time too, as django-stubs writes them for mypy.
django_stubs_ext.monkeypatch()


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}: expected true or false, got {value!r}")


def env_seconds(name: str, default: int) -> int:
    value = os.environ.get(name) or str(default)
    if not value.isdigit():
        raise ImproperlyConfigured(f"{name}: expected a whole number of seconds, got {value!r}")
    return int(value)


def env_proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """"X-Forwarded-Proto" or "X-Forwarded-Proto: https" → Django's SECURE_PROXY_SSL_HEADER."""
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    header, _sep, expected = value.partition(":")
    header, expected = header.strip(), expected.strip() or "https"
    if not header or " " in header:
        raise ImproperlyConfigured(
            f"{name}: expected a header name, optionally with ': value', got {value!r}")
    return "HTTP_" + header.upper().replace("-", "_"), expected


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def load_secret_key(var_dir: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in var/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = var_dir / "secret_key"
    if not key_file.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        # Exclusive create: two processes starting at once must not write two keys.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_flag("DEBUG")
SECRET_KEY = load_secret_key(VAR_DIR)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "refunddesk.core",
    "refunddesk.billing",
    "refunddesk.cases",
    "refunddesk.notifications",
    "refunddesk.policies",
    "refunddesk.payouts",
    "refunddesk.inbox",
    "refunddesk.calendars",
    "refunddesk.recourse",
    "refunddesk.replies",
    "refunddesk.intake",
    "refunddesk.reports",
    "refunddesk.compensation",
    "refunddesk.console",
    "refunddesk.api",
    # Ninja's own templates and static files: the API docs page then serves Swagger UI
    # from here instead of a CDN.
    "ninja",
    "refunddesk.portal",
    # After the portal: its account/ templates override allauth's own.
    "allauth",
    "allauth.account",
    "allauth.mfa",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise (static files need no policy), before everything that renders a page.
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Inside the language (it speaks it): the API's errors in their one JSON shape, where
    # Django or Ninja would answer /api/v1/ with a page (404, 405, 500 …).
    "refunddesk.api.errors.ErrorShapeMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After authentication and messages: it needs request.user and leaves a message.
    "refunddesk.core.middleware.StaffIdleTimeoutMiddleware",
    # Staff without a second factor set up are sent to set one up before the administration.
    "refunddesk.console.access.AdminSecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Last: it wraps the API's POSTs (and only those) in their stored answer.
    "refunddesk.api.idempotency.IdempotencyMiddleware",
]

ROOT_URLCONF = "refunddesk.urls"
WSGI_APPLICATION = "refunddesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'refunddesk.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters sent apart from the SQL text, and a statement a connection runs a second
    # time prepared: PostgreSQL then skips parsing and planning, which for the API's small
    # indexed queries is most of their time (planning a five-table join takes longer than
    # running it; bench/bench_api.py). Django leaves psycopg's preparing off unless
    # `prepare_threshold` is given. Turn both off (false) behind PgBouncer in transaction
    # mode, which cannot keep prepared statements.
    _prepared = os.environ.get("DATABASE_SERVER_SIDE_BINDING", "true").lower() != "false"
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["server_side_binding"] = _prepared
    if _prepared:
        _options["prepare_threshold"] = 1
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server read while the worker writes; IMMEDIATE takes the write
        # lock at BEGIN so two writers queue up instead of failing with "database is locked".
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": None}

# Each process keeps API keys, published policy versions, calendars and webhook endpoints
# until a change is announced (PostgreSQL only; core/invalidation.py). Off: every request
# reads them.
REFUNDDESK_PROCESS_CACHE = env_flag("REFUNDDESK_PROCESS_CACHE", default=True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",  # staff at /admin/ by user name
    "allauth.account.auth_backends.AuthenticationBackend",  # the login page
]
LOGIN_URL = "account_login"
# Customers; staff go to the console (PortalAccountAdapter.get_login_redirect_url).
LOGIN_REDIRECT_URL = "portal:account"

# Login (django-allauth). Customers come from the merchant's billing system, which vouches
# for their e-mail addresses: no sign-up, no verification round. They log in by e-mail (their
# user name is their e-mail too); staff by user name or e-mail, on the same page.
ACCOUNT_ADAPTER = "refunddesk.portal.adapter.PortalAccountAdapter"
ACCOUNT_FORMS = {"login": "refunddesk.portal.forms.LoginForm"}
ACCOUNT_LOGIN_METHODS = {"email", "username"}
# Sign-up is closed (the adapter), so this only keeps allauth's checks content: the e-mail
# is required, which is a login method.
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 10 * 60
# Nobody can sign up, so a mail inviting an unknown address to do so would only confuse.
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[RefundDesk] "
ACCOUNT_RATE_LIMITS = {
    # Failed passwords and second-factor codes, per client address only (allauth's own
    # count), and per user name (or user, for codes) *at that address* (ours,
    # core/login_throttle.py). A stranger guessing from one address is slowed down there,
    # without locking the real person, who logs in from elsewhere, out of their account.
    "login_failed": "10/m/ip",
    "login_failed_user_at_address": "5/5m/key",
    # Wrong second-factor codes of one user from anywhere (reached only with the right
    # password): a thief of the password cannot try the codes from many addresses.
    "login_failed_codes_of_user": "30/h/key",
    "login": "30/m/ip",
    "request_login_code": "20/m/ip,3/m/key",
    "reset_password": "20/m/ip,5/m/key",
}

# Staff: a second factor (TOTP from an authenticator app, with recovery codes to fall back
# on). allauth asks for the code at every login of a user who has one; the console sends
# staff without one to set it up (console/access.py). Off only for development.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "RefundDesk"
# Also accept the code of the 30 seconds before and after: phone clocks drift, and a code
# typed just as it changes should not fail.
MFA_TOTP_TOLERANCE = 1
# The second-factor forms, counting wrong codes per user and client address (the allauth
# ones count per user alone, so anyone could lock a staff member out).
MFA_FORMS = {
    "authenticate": "refunddesk.core.login_throttle.AuthenticateForm",
    "reauthenticate": "refunddesk.core.login_throttle.ReauthenticateForm",
}
REFUNDDESK_STAFF_MFA = env_flag("REFUNDDESK_STAFF_MFA", default=True)
# A staff session unused this long is logged out (core/middleware.py); customers' are not.
_idle = os.environ.get("REFUNDDESK_STAFF_IDLE_MINUTES") or "30"
if not _idle.isdigit() or int(_idle) < 1:
    raise ImproperlyConfigured(
        f"REFUNDDESK_STAFF_IDLE_MINUTES: expected a whole number of minutes, at least 1, "
        f"got {_idle!r}")
REFUNDDESK_STAFF_IDLE_MINUTES = int(_idle)
# How far ahead business-day deadlines may reach: the system check (calendars/checks.py)
# warns when a calendar in use is known for less than this many days ahead.
_horizon = os.environ.get("REFUNDDESK_CALENDAR_HORIZON_DAYS") or "90"
if not _horizon.isdigit():
    raise ImproperlyConfigured(
        f"REFUNDDESK_CALENDAR_HORIZON_DAYS: expected a whole number of days, got {_horizon!r}")
REFUNDDESK_CALENDAR_HORIZON_DAYS = int(_horizon)
# How long before a case's SLA clock runs out its assignee is told (inbox/clocks.py).
_warning = os.environ.get("REFUNDDESK_SLA_WARNING_MINUTES") or "120"
if not _warning.isdigit():
    raise ImproperlyConfigured(
        f"REFUNDDESK_SLA_WARNING_MINUTES: expected a whole number of minutes, got {_warning!r}")
REFUNDDESK_SLA_WARNING_MINUTES = int(_warning)

STATIC_URL = "static/"
# Site-wide assets (the stylesheet, later vendored htmx) live beside the apps' own.
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or VAR_DIR / "static")
# WhiteNoise warns on every start when the directory is missing.
with contextlib.suppress(OSError):
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Serve straight from the apps' static folders too, so a missed collectstatic degrades
# to slower start-up instead of missing styles.
WHITENOISE_USE_FINDERS = True

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "refunddesk_cache",
    }
}
TRACK_LOOKUPS_PER_IP = int(os.environ.get("TRACK_LOOKUPS_PER_IP", "20"))  # per 10 minutes

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_FILE_PATH = VAR_DIR / "mail"  # used by the file backend the demo sets
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_flag("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_flag("EMAIL_USE_SSL")
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "RefundDesk <refunds@localhost>")

# Payouts: the gateways money goes back through (payouts/gateways/). A payment names its
# gateway; credits in kind go through "balance". The sandbox settles after a delay per
# method (minutes, for the demo); REFUNDDESK_SANDBOX_SETTLE_SECONDS sets one delay for all.
_settle = os.environ.get("REFUNDDESK_SANDBOX_SETTLE_SECONDS")


def secret(name: str) -> str:
    """A credential from the environment: NAME itself, or the file named by NAME_FILE (a
    mounted secret, a key in PEM). Never stored in the database."""
    value = os.environ.get(name, "")
    path = os.environ.get(f"{name}_FILE", "")
    if path and not value:
        try:
            value = Path(path).read_text(encoding="utf-8")
        except OSError as error:
            raise ImproperlyConfigured(f"{name}_FILE names {path!r}, which cannot be read: "
                                       f"{error.strerror}") from None
    return value.strip()


def _notify_url(name: str) -> str:
    """Where a provider posts its notifications, when the site has a public https address;
    empty otherwise (a provider refuses an http or local one, and the worker asks anyway)."""
    base = os.environ.get("REFUNDDESK_BASE_URL", "").rstrip("/")
    return f"{base}/gateways/{name}/notify" if base.startswith("https://") else ""


REFUNDDESK_GATEWAYS = {
    "sandbox": {
        "BACKEND": "refunddesk.payouts.gateways.sandbox.SandboxGateway",
        "OPTIONS": {
            "ledger": os.environ.get("REFUNDDESK_SANDBOX_LEDGER")
            or str(VAR_DIR / "sandbox-gateway.sqlite3"),
            "settle_after": {"default": float(_settle)} if _settle else {
                "default": 120, "alipay": 60, "wechat_pay": 60, "card": 300, "paypal": 180,
                "bank_transfer": 600},
            "refund_window_days": 365,
        },
    },
    "balance": {"BACKEND": "refunddesk.payouts.gateways.balance.BalanceGateway"},
    "stripe": {
        "BACKEND": "refunddesk.payouts.gateways.stripe.StripeGateway",
        "OPTIONS": {
            "api_key": os.environ.get("STRIPE_API_KEY", ""),
            "api_base": os.environ.get("STRIPE_API_BASE", ""),
            "timeout": float(os.environ.get("STRIPE_TIMEOUT_SECONDS", "10")),
            # Stripe allows 100 writes a second live and 25 in test mode, per account;
            # this is each worker process's share.
            "rate_per_second": float(os.environ.get("STRIPE_WRITES_PER_SECOND", "25")),
            "refund_window_days": 180,
        },
    },
    # Alipay (docs/payouts.md#alipay): RSA2 keys in PEM; the refund period is the one of
    # the merchant's contract (commonly 3 or 12 months).
    "alipay": {
        "BACKEND": "refunddesk.payouts.gateways.alipay.AlipayGateway",
        "OPTIONS": {
            "app_id": os.environ.get("ALIPAY_APP_ID", ""),
            "private_key": secret("ALIPAY_PRIVATE_KEY"),
            "alipay_public_key": secret("ALIPAY_PUBLIC_KEY"),
            "server_url": os.environ.get("ALIPAY_SERVER_URL",
                                         "https://openapi.alipay.com/gateway.do"),
            "timeout": float(os.environ.get("ALIPAY_TIMEOUT_SECONDS", "10")),
            "rate_per_second": float(os.environ.get("ALIPAY_CALLS_PER_SECOND", "20")),
            "refund_window_days": int(os.environ.get("ALIPAY_REFUND_WINDOW_DAYS", "365")),
            # Currencies the Alipay account refunds in (cross-border accounts add theirs),
            # and whether payment references are Alipay's trade numbers, the merchant's
            # order numbers, or "auto" (all digits: Alipay's).
            "currencies": os.environ.get("ALIPAY_CURRENCIES", "CNY").split(","),
            "payment_reference": os.environ.get("ALIPAY_PAYMENT_REFERENCE", "auto"),
        },
    },
    # WeChat Pay API v3 (docs/payouts.md#wechat-pay), verified with WeChat Pay's public key.
    "wechat_pay": {
        "BACKEND": "refunddesk.payouts.gateways.wechat_pay.WeChatPayGateway",
        "OPTIONS": {
            "mchid": os.environ.get("WECHATPAY_MCHID", ""),
            "appid": os.environ.get("WECHATPAY_APPID", ""),
            "private_key": secret("WECHATPAY_PRIVATE_KEY"),
            "cert_serial_no": os.environ.get("WECHATPAY_CERT_SERIAL_NO", ""),
            "apiv3_key": secret("WECHATPAY_APIV3_KEY"),
            "public_key": secret("WECHATPAY_PUBLIC_KEY"),
            "public_key_id": os.environ.get("WECHATPAY_PUBLIC_KEY_ID", ""),
            "api_base": os.environ.get("WECHATPAY_API_BASE", "https://api.mch.weixin.qq.com"),
            "notify_url": os.environ.get("WECHATPAY_NOTIFY_URL", _notify_url("wechat_pay")),
            "timeout": float(os.environ.get("WECHATPAY_TIMEOUT_SECONDS", "10")),
            "rate_per_second": float(os.environ.get("WECHATPAY_CALLS_PER_SECOND", "20")),
            "refund_window_days": 365,
            # WeChat Pay refunds one payment at most 50 times.
            "max_refunds_per_payment": 50,
        },
    },
    # PayPal (docs/payouts.md#paypal): REST app credentials and the webhook's id.
    "paypal": {
        "BACKEND": "refunddesk.payouts.gateways.paypal.PayPalGateway",
        "OPTIONS": {
            "client_id": os.environ.get("PAYPAL_CLIENT_ID", ""),
            "client_secret": secret("PAYPAL_CLIENT_SECRET"),
            "webhook_id": os.environ.get("PAYPAL_WEBHOOK_ID", ""),
            "environment": os.environ.get("PAYPAL_ENVIRONMENT", "live"),
            "api_base": os.environ.get("PAYPAL_API_BASE", ""),
            "timeout": float(os.environ.get("PAYPAL_TIMEOUT_SECONDS", "10")),
            "rate_per_second": float(os.environ.get("PAYPAL_CALLS_PER_SECOND", "10")),
            "refund_window_days": 180,
            # Where webhook signing certificates may be fetched from (URL prefixes, space
            # separated); empty: PayPal's own, https://api(.sandbox).paypal.com/v1/
            # notifications/certs/. Set only for a local stand-in.
            "cert_url_prefixes": os.environ.get("PAYPAL_CERT_URL_PREFIXES", "").split()
            or None,
        },
    },
}
# How often each worker looks for payouts to send or check, how long a worker may hold one
# before another takes it up (a worker killed mid-call), and the first wait before asking
# a gateway again about a refund still on its way (doubling up to an hour).
# E-mail intake (docs/email.md): the mailboxes the worker reads, one URL each separated by
# spaces (imaps://user:password@host/INBOX), and how often.
REFUNDDESK_IMAP_MAILBOXES = os.environ.get("REFUNDDESK_IMAP_MAILBOXES", "")
# Where customers' replies to case e-mail go: "refunds+{tracking}@example.com" puts the
# tracking number in the address (notifications/threading.py); empty: replies go to From.
REFUNDDESK_REPLY_ADDRESS = os.environ.get("REFUNDDESK_REPLY_ADDRESS", "")
# The first human answer to a request by e-mail is due within this (h and d: hours and days
# of the clock; bd: business days of the policy's calendar), unless the policy asks sooner.
# E-mail in triage counts it on REFUNDDESK_EMAIL_CALENDAR.
REFUNDDESK_EMAIL_ANSWER_WITHIN = os.environ.get("REFUNDDESK_EMAIL_ANSWER_WITHIN", "24h")
REFUNDDESK_EMAIL_CALENDAR = os.environ.get("REFUNDDESK_EMAIL_CALENDAR", "CN")
# At most this many automatic replies to one sender in an hour (loop protection, RFC 3834).
REFUNDDESK_MAIL_AUTO_REPLIES_PER_HOUR = int(
    os.environ.get("REFUNDDESK_MAIL_AUTO_REPLIES_PER_HOUR", "3"))
# Limits of one received e-mail: larger messages are kept whole but read by a person;
# attachments beyond the count are refused and named in the automatic reply. Each
# attachment is also held to the upload limit (REFUNDDESK_UPLOAD_MAX_BYTES).
REFUNDDESK_MAIL_MAX_BYTES = int(os.environ.get("REFUNDDESK_MAIL_MAX_BYTES", str(30 * 2**20)))
REFUNDDESK_MAIL_MAX_ATTACHMENTS = int(os.environ.get("REFUNDDESK_MAIL_MAX_ATTACHMENTS", "10"))
REFUNDDESK_IMAP_POLL_SECONDS = float(os.environ.get("REFUNDDESK_IMAP_POLL_SECONDS", "60"))
# How often each worker takes the e-mails and webhook deliveries that are due
# (notifications/sending.py, webhook_sending.py).
REFUNDDESK_OUTBOX_POLL_SECONDS = float(os.environ.get("REFUNDDESK_OUTBOX_POLL_SECONDS", "1"))
REFUNDDESK_PAYOUT_POLL_SECONDS = float(os.environ.get("REFUNDDESK_PAYOUT_POLL_SECONDS", "1"))
REFUNDDESK_PAYOUT_LEASE_SECONDS = float(os.environ.get("REFUNDDESK_PAYOUT_LEASE_SECONDS", "120"))
REFUNDDESK_PAYOUT_RETRY_SECONDS = float(os.environ.get("REFUNDDESK_PAYOUT_RETRY_SECONDS", "30"))
REFUNDDESK_PAYOUT_RETRY_MAX_SECONDS = 3600.0
# Payouts taken per pass: larger is faster, smaller holds less when a worker dies.
REFUNDDESK_PAYOUT_BATCH = int(os.environ.get("REFUNDDESK_PAYOUT_BATCH", "200"))
# How long a worker holds a mass compensation run without a sign of life (it renews the
# lease after each customer) before the sweep hands the run to another worker.
REFUNDDESK_COMPENSATION_LEASE_SECONDS = float(
    os.environ.get("REFUNDDESK_COMPENSATION_LEASE_SECONDS", "120"))
# Webhook hosts trusted inside the network: reached over plain http too, and exempt from
# the check that refuses loopback, private and other internal addresses
# (notifications/webhook_addresses.py).
WEBHOOK_ALLOWED_HOSTS = env_list("WEBHOOK_ALLOWED_HOSTS", "")

# Where customers reach this site: links in e-mail are built on it.
REFUNDDESK_BASE_URL = os.environ.get("REFUNDDESK_BASE_URL", "http://127.0.0.1:8000")
REFUNDDESK_UPLOAD_MAX_BYTES = int(os.environ.get("REFUNDDESK_UPLOAD_MAX_MB", "10")) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Security (docs/configuration.md, "Security"; docs/deploy.md, "Security"). Without DEBUG
# the site is taken to be served over HTTPS by a reverse proxy: cookies are HTTPS-only and
# browsers are told to come back over HTTPS only. A plain-http set-up (`refunddesk demo`, a
# trial on a laptop) says so with SECURE_COOKIES=false.
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_flag("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Sent only on HTTPS responses, so it never reaches a plain-http demo.
SECURE_HSTS_SECONDS = env_seconds("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_flag("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env_flag("SECURE_HSTS_PRELOAD")
# Links out of the site send no Referer (tracking numbers are in paths); our own pages get it.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# The reverse proxy redirects http:// to https:// (docs/deploy.md); this is for a set-up
# without one.
SECURE_SSL_REDIRECT = env_flag("SECURE_SSL_REDIRECT")
# Which header tells that the proxy received the request over HTTPS, when gunicorn's
# FORWARDED_ALLOW_IPS cannot (docs/deploy.md). Only with a proxy that overwrites it.
SECURE_PROXY_SSL_HEADER = env_proxy_ssl_header("SECURE_PROXY_SSL_HEADER")
# The header a trusted reverse proxy puts the client's address in (X-Real-IP); the login
# and /track limits count per address (core/ratelimit.py). Empty: REMOTE_ADDR.
REFUNDDESK_CLIENT_IP_HEADER = os.environ.get("REFUNDDESK_CLIENT_IP_HEADER", "").strip()

# Content-Security-Policy on every page (django-csp): scripts and styles only from our own
# static files, or inline with the nonce of the response; no plugins, no framing, forms
# post only here. Data URIs for images: the QR code of the authenticator set-up.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
