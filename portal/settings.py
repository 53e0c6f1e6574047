"""Settings for the policy-matching portal, read from the environment.

They fail closed: without variables they are production's (DEBUG off) and refuse to start unless
SECRET_KEY, DATABASE_URL, CELERY_BROKER_URL and ALLOWED_HOSTS are set; a missing or malformed one
stops start-up with a message naming it.

The embedded development mode is asked for explicitly with PORTAL_DEV=1 (`make run` sets it): DEBUG
on, a dev-only secret key, a SQLite file in the project, Celery tasks in-process, demo accounts.
Tests run under portal/settings_test.py: these settings with the values a test run supplies.
"""

import datetime
import sys
from pathlib import Path
from urllib.parse import urlparse

import environ
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is read only in the embedded mode's working copy; the image never contains one
# (.dockerignore) and production takes its values from the real environment.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def config_error(variable: str, problem: str) -> None:
    """Stop start-up with one clear line instead of a stack trace."""
    sys.stderr.write(f"Configuration error: {variable} {problem}\n")
    raise SystemExit(2)


EMBEDDED = env.bool("PORTAL_DEV", default=False)  # the embedded development mode (`make run`)
DEBUG = env.bool("DEBUG", default=EMBEDDED)
PRODUCTION = not DEBUG
if EMBEDDED and PRODUCTION:
    config_error("DEBUG", "cannot be off in the embedded development mode (PORTAL_DEV=1).")

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if PRODUCTION:
        config_error("SECRET_KEY", "must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    config_error("ALLOWED_HOSTS", "must list the host names when DEBUG is off.")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])


def database_config() -> dict:
    url = env.str("DATABASE_URL", default="")
    if not url:
        if PRODUCTION:
            config_error(
                "DATABASE_URL", "must be set when DEBUG is off (e.g. postgres://user@host:5432/portal)."
            )
        url = f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    scheme = urlparse(url).scheme
    if scheme not in {"postgres", "postgresql", "pgsql", "sqlite"}:
        config_error("DATABASE_URL", f"has an unsupported scheme {scheme!r}: use postgres:// or sqlite:///.")
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # noqa: BLE001 - any parse failure is a configuration error
        config_error("DATABASE_URL", f"is malformed ({exc.__class__.__name__}).")
    if config["ENGINE"].endswith("postgresql") and not config.get("NAME"):
        config_error("DATABASE_URL", "names no database.")
    if config["ENGINE"].endswith("sqlite3"):
        # Many readers and one writer: wait for locks instead of failing at once, and take the write
        # lock at BEGIN so concurrent decisions get a clean conflict, not "database is locked".
        config.setdefault("OPTIONS", {}).update(timeout=20, transaction_mode="IMMEDIATE")
    else:
        config["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASES = {"default": database_config()}

# Login throttling and idempotency keys need a cache shared by all processes in production.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://portal")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "portal.cache.RedisCache"  # one client per pool (portal/cache.py)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
# Tasks run in-process (at the moment they are enqueued, after commit) without a broker: the default of
# the embedded mode; production asks for it by name (portal/settings_test.py does) or sets a broker.
TASKS_IN_PROCESS = env.bool("TASKS_IN_PROCESS", default=not CELERY_BROKER_URL and not PRODUCTION)
if CELERY_BROKER_URL:
    if urlparse(CELERY_BROKER_URL).scheme not in {"redis", "rediss"}:
        config_error("CELERY_BROKER_URL", "must be a redis:// URL.")
elif PRODUCTION and not TASKS_IN_PROCESS:
    config_error("CELERY_BROKER_URL", "must be set when DEBUG is off (e.g. redis://host:6379/0).")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "socket_connect_timeout": 2,
}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="portal")
CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat writes each task's last_run_at as soon as it sent it: its healthcheck (manage.py check_beat)
# reads the minute tick's.
CELERY_BEAT_SYNC_EVERY = 1

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "django_htmx",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "simple_history",
    "axes",
    "policies",
    "enterprises",
    "matching",
    "applications",
    "portal",
]

MIDDLEWARE = [
    "portal.middleware.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into portal.auth.lockout_response
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses locked-out credentials before any password check
    "django.contrib.auth.backends.ModelBackend",
]
# Login protection (portal/auth.py): per username at an address and per address, a cool-off period.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)  # reverse proxies in front of the portal
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=15 * 60)  # seconds
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = datetime.timedelta(seconds=LOGIN_FAILURE_WINDOW)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "portal.auth.axes_client_ip"
AXES_USERNAME_CALLABLE = "portal.auth.axes_username"
AXES_LOCKOUT_CALLABLE = "portal.auth.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429
PASSWORD_RESET_LIMIT = env.int("PASSWORD_RESET_LIMIT", default=5)  # per address and per e-mail
PASSWORD_RESET_WINDOW = env.int("PASSWORD_RESET_WINDOW", default=3600)  # seconds
# Self-registration POSTs per client address and per credit code within the window (portal.auth)
REGISTRATION_LIMIT = env.int("REGISTRATION_LIMIT", default=5)
REGISTRATION_WINDOW = env.int("REGISTRATION_WINDOW", default=3600)  # seconds
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "landing"  # the enterprise dashboard, or the review queue (portal.views.landing)
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="zh-hans")
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Machine clients: `Authorization: Api-Key <key>` (portal/api); browsers: the session cookie.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "portal.api.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["portal.api.permissions.ScopedAccess"],
    "DEFAULT_PARSER_CLASSES": ["portal.api.parsers.LimitedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.KeysetPagination",
    "DEFAULT_THROTTLE_CLASSES": [
        "portal.api.throttling.ApiKeyRateThrottle",
        "portal.api.throttling.SessionUserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "api_key": env.str("API_KEY_RATE", default="1200/min"),  # a key's own rate_limit overrides it
        "user": env.str("API_USER_RATE", default="600/min"),
    },
    "EXCEPTION_HANDLER": "portal.api.errors.problem_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "政策匹配平台 API / Policy-matching portal API",
    "DESCRIPTION": (
        "闵行区和上海市产业扶持政策的条款、扶持项目、企业匹配结果及其变化。\n\n"
        "Clauses and benefits of Minhang and Shanghai industrial subsidy policies, enterprises' match "
        "results and their changes.\n\n"
        "**认证 Authentication**: `Authorization: Api-Key <密钥 key>`，或已登录浏览器的会话 (session).\n"
        "**错误 Errors**: `application/problem+json` (type, title, status, detail, errors)；"
        "`Accept-Language: en` 得到英文 for English.\n"
        "**金额 Money**: 元，两位小数的字符串，另附 `*_wan` 万元显示 (yuan strings, plus 万元 display)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc served from our own static files: no CDN (closed networks, government hosting).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "MatchStatusEnum": "matching.models.MatchStatus",
        "DocumentStatusEnum": "policies.models.PolicyDocument.Status",
        "ClauseKindEnum": "policies.models.Clause.Kind",
        "BenefitKindEnum": "policies.models.Benefit.Kind",
        "ApplicationStateEnum": "applications.models.State",
    },
    "PREPROCESSING_HOOKS": ["portal.api.schema.only_api_v1"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.api.schema.add_problem_responses",
    ],
}

# Webhook receivers on internal networks are refused (matching/outbound.py) unless their network is
# listed here on purpose, e.g. "10.20.0.0/16" for a bank's endpoint inside a closed government network.
WEBHOOK_ALLOWED_NETWORKS = env.list("WEBHOOK_ALLOWED_NETWORKS", default=[])
# After a subscription's secret is rotated, deliveries carry a signature with the previous one too for
# this many seconds (Standard Webhooks: several space-separated signatures; matching/webhook_signing.py).
WEBHOOK_SECRET_GRACE = env.int("WEBHOOK_SECRET_GRACE", default=24 * 3600)
# The changes of a match.changed webhook, rendered by the API's output definition of a change (the same
# item as GET /api/v1/changes/{id}/): matching/notifications.py imports nothing of the portal's.
MATCHING_CHANGE_ITEMS = "portal.api.v1.matches.output.change_items"

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="portal@localhost")

# Content-Security-Policy (django-csp): scripts only from this site (no inline script, no eval), no
# plugins, never framed, forms post only here. Inline styles stay allowed: several templates still
# carry <style> blocks and style attributes (bar widths); styles cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF, "blob:"],  # Redoc's search worker
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

if PRODUCTION:
    CSRF_COOKIE_HTTPONLY = True  # pages send the token from the form or hx-headers, never from the cookie
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^livez$", r"^readyz$"]  # probes speak plain HTTP

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # The request log line comes from portal.middleware; Django's own would repeat it.
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}
