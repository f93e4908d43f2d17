"""Settings for remag: one module, every value from the environment.

Every variable read here is listed in README.md's configuration table and in
`.env.example`. Defaults are safe for development only: without `DATABASE_URL` the
service runs on a SQLite file under `var/`, without `REDIS_URL` Celery runs tasks
in-process and the cache is local memory. With `DEBUG` off the process refuses to
start without a real `SECRET_KEY`.
"""

import ipaddress
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from remag import queues

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A developer's own `.env` (git-ignored) is read when present; real deployments set
# variables in the process environment, which wins over the file.
if (BASE_DIR / ".env").is_file():
    env.read_env(str(BASE_DIR / ".env"), overwrite=False)

# ------------------------------------------------------------------ core


def _keyless_command(argv: list[str], commands: frozenset[str]) -> bool:
    return len(argv) > 1 and argv[0].endswith("manage.py") and argv[1] in commands


DEBUG = env.bool("DEBUG", default=False)

# Not a secret: a fixed, public value that only a DEBUG process accepts.
_DEVELOPMENT_SECRET_KEY = "django-insecure-remag-development-only-never-use-in-production"  # noqa: S105
# Management commands that only read the code (no signing, no serving, no data) may run
# without a key (collectstatic too, so an image can collect at build time); they get a
# random one that lives as long as the process.
_KEYLESS_COMMANDS = frozenset({"makemigrations", "spectacular", "collectstatic"})
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY and not DEBUG and _keyless_command(sys.argv, _KEYLESS_COMMANDS):
    SECRET_KEY = secrets.token_urlsafe(50)
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off "
            "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    SECRET_KEY = _DEVELOPMENT_SECRET_KEY

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

ROOT_URLCONF = "remag.urls"
WSGI_APPLICATION = "remag.wsgi.application"
ASGI_APPLICATION = "remag.asgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
# A session's user is read with their memberships in one query (remag/accounts/backends.py);
# Django's own backend stays second for sessions signed in before that one existed.
AUTHENTICATION_BACKENDS = [
    "remag.accounts.backends.MembershipsBackend",
    "django.contrib.auth.backends.ModelBackend",
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Needed for its abstract key model; its own APIKey table is unused (admin unregistered).
    "rest_framework_api_key",
    "remag.accounts",
    "remag.api",
    "remag.webhooks",
    "suppliers",
    "matching",
    "matching.procurement",
    "matching.collaboration",
    "matching.magnets",
    "stats",
]

MIDDLEWARE = [
    "remag.api.middleware.HeadWithoutBodyMiddleware",
    "remag.observability.RequestIdMiddleware",
    "remag.metrics.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "remag.api.middleware.APIProblemsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "remag.api.middleware.RequestBodyLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "remag" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
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

LANGUAGE_CODE = "en-in"
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Kolkata")
USE_I18N = True
USE_TZ = True

# ------------------------------------------------------------------ database

DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'remag.sqlite3'}"
    ),
}
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
IS_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
# PostgreSQL connections come from a small pool per process (Django's psycopg pool): a
# request or task takes one and hands it back when it ends, so a process never holds
# more than DATABASE_POOL_MAX_SIZE, however many threads it runs (the development
# server runs one per client connection). Persistent per-thread connections
# (CONN_MAX_AGE) are for SQLite, or for PostgreSQL with the pool off (max size 0,
# e.g. behind PgBouncer in transaction mode); Django refuses them beside a pool.
DATABASE_POOL_MAX_SIZE = env.int("DATABASE_POOL_MAX_SIZE", default=4)
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
if IS_POSTGRES:
    _db_options = DATABASES["default"].setdefault("OPTIONS", {})
    # Statements that run away are cut off rather than holding a connection forever; and
    # no JIT: it compiles for hundreds of milliseconds to save less on queries like ours
    # (measured on the candidate query of a match run: 306 ms of JIT in a 525 ms query).
    _db_options.setdefault(
        "options",
        f"-c statement_timeout={env.int('DATABASE_STATEMENT_TIMEOUT_MS', default=30000)}"
        " -c jit=off",
    )
    # Names this service's connections in pg_stat_activity.
    _db_options.setdefault(
        "application_name", env.str("DATABASE_APPLICATION_NAME", default="remag")
    )
    if DATABASE_POOL_MAX_SIZE > 0:
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        _db_options["pool"] = {
            "min_size": min(env.int("DATABASE_POOL_MIN_SIZE", default=1), DATABASE_POOL_MAX_SIZE),
            "max_size": DATABASE_POOL_MAX_SIZE,
            # Seconds a request waits for a free connection before failing (a 500 that
            # says the pool is exhausted, rather than a hang).
            "timeout": env.float("DATABASE_POOL_TIMEOUT_SECONDS", default=10.0),
        }
    # A hot statement of a fixed shape (remag.db.statements_prepared: a credential by its
    # prefix, a page of a request's matches) is prepared once a connection has run it
    # this many times, and then planned once per connection. Django's other statements
    # bind on the client and are never prepared.
    _db_options["prepare_threshold"] = env.int("DATABASE_PREPARE_THRESHOLD", default=5)
    # Behind PgBouncer in transaction mode a server connection changes hands between
    # transactions: no server-side cursors and no prepared statements (docs/operations.md).
    if env.bool("DATABASE_PGBOUNCER", default=False):
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
        _db_options["prepare_threshold"] = None

# Indexes that cover columns beyond their keys (INCLUDE) are a PostgreSQL speed-up; on
# SQLite (development) the same indexes hold their key columns only, which is all the
# warning says.
SILENCED_SYSTEM_CHECKS = [] if IS_POSTGRES else ["models.W040"]

# ------------------------------------------------------------------ Redis: cache and broker

REDIS_URL = env.str("REDIS_URL", default="")
CACHE_KEY_PREFIX = env.str("CACHE_KEY_PREFIX", default="remag")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
        }
    }

# ------------------------------------------------------------------ Celery
# The database is the source of truth; the broker only carries "go look at row X".
# Tasks therefore acknowledge late, are requeued when their worker dies, and must be
# idempotent. Without REDIS_URL tasks run in-process so one command serves a demo.

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
# The queue tasks are sent to (and workers consume by default). Tasks sent by a worker
# (a retry, a follow-up) go here too.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# Match runs, imports and webhook deliveries have a queue each (remag/queues.py); every
# queue name is prefixed with CELERY_QUEUE_PREFIX. A worker serves the queues given
# with -Q (`make worker QUEUES=matching`); by default all of them.
CELERY_QUEUE_PREFIX = env.str("CELERY_QUEUE_PREFIX", default="")
CELERY_TASK_ROUTES = queues.task_routes(CELERY_QUEUE_PREFIX)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
# Redis redelivers an unacknowledged message after the visibility timeout; it must
# exceed the longest task or a running task would be delivered twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": max(3600, 2 * CELERY_TASK_TIME_LIMIT),
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Celery's Django fix-up closes a prefork child's connection pool around every task
# unless this is set; then it does so once every this many tasks, and between tasks the
# connections go back to the pool instead (remag.celery._hand_back_connections).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=500)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TIMEZONE = TIME_ZONE
# The dashboard's aggregate tables (docs/dashboard.md): beat recomputes them this often.
# On read, when they are older than this and STATS_REFRESH_ON_READ is on (the default
# without a broker, i.e. `make run`, where no beat runs), the read recomputes them first.
STATS_REFRESH_SECONDS = env.int("STATS_REFRESH_SECONDS", default=300)
STATS_REFRESH_ON_READ = env.bool("STATS_REFRESH_ON_READ", default=CELERY_TASK_ALWAYS_EAGER)
# Magnet plants to mark on the coverage figures: a JSON list of {"name", "latitude",
# "longitude"} (public locations the mission chooses to show); none by default.
STATS_MAGNET_PLANTS = env.json("STATS_MAGNET_PLANTS", default=[])

CELERY_BEAT_SCHEDULE = {
    "import-jobs-sweep": {
        "task": "suppliers.import_jobs_sweep",
        "schedule": timedelta(minutes=2),
    },
    "webhook-deliveries-sweep": {
        "task": "webhooks.deliveries_sweep",
        "schedule": timedelta(minutes=1),
    },
    # Stored list representations missing or stale (suppliers.representations).
    "supplier-representations-sweep": {
        "task": "suppliers.representations_sweep",
        "schedule": timedelta(minutes=1),
    },
    # Certificates that turned valid or lapsed with the date (the first sweep of a day
    # announces them; the others read one row).
    "certificates-validity-sweep": {
        "task": "suppliers.certificates_validity_sweep",
        "schedule": timedelta(minutes=10),
    },
    "match-runs-sweep": {
        "task": "matching.match_runs_sweep",
        "schedule": timedelta(minutes=1),
    },
    "call-runs-sweep": {
        "task": "collaboration.call_runs_sweep",
        "schedule": timedelta(minutes=1),
    },
    # Magnet runs (and the expiry of magnet offers whose validity ended).
    "magnet-runs-sweep": {
        "task": "magnets.magnet_runs_sweep",
        "schedule": timedelta(minutes=1),
    },
    # Open calls for collaboration past their response deadline are closed.
    "calls-close-due": {
        "task": "collaboration.calls_close_due",
        "schedule": timedelta(minutes=10),
    },
    "idempotency-keys-purge": {
        "task": "remag.api.tasks.idempotency_keys_purge",
        "schedule": timedelta(hours=1),
    },
    "events-purge": {"task": "webhooks.events_purge", "schedule": timedelta(hours=6)},
    "import-files-purge": {"task": "suppliers.import_files_purge", "schedule": timedelta(hours=6)},
    "stats-refresh": {
        "task": "stats.refresh",
        "schedule": timedelta(seconds=STATS_REFRESH_SECONDS),
    },
}

# ------------------------------------------------- REST framework and API conventions

REST_FRAMEWORK = {
    # Token auth comes first so that an unauthenticated call gets 401 with
    # WWW-Authenticate rather than the 403 that session auth alone would give.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "remag.accounts.authentication.UserTokenAuthentication",
        "remag.accounts.authentication.OrganizationAPIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": ["remag.api.parsers.StrictJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "remag.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": ["remag.api.throttling.CallerRateThrottle"],
    "EXCEPTION_HANDLER": "remag.api.exceptions.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "remag.api.openapi.RemagAutoSchema",
    "DEFAULT_VERSIONING_CLASS": None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Content negotiation by Accept header only; no ?format= parameter on every endpoint.
    "URL_FORMAT_OVERRIDE": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

# Requests per period for each kind of caller; "N/second|minute|hour|day". An API key
# and a user each get their own bucket; anonymous callers are bucketed by address.
REMAG_THROTTLE_RATES = {
    "anon": env.str("THROTTLE_RATE_ANON", default="60/minute"),
    "user": env.str("THROTTLE_RATE_USER", default="600/minute"),
    "api_key": env.str("THROTTLE_RATE_API_KEY", default="1200/minute"),
}
# Number of reverse proxies in front of the service whose X-Forwarded-For is trusted
# when bucketing anonymous callers; 0 trusts none and uses the socket address.
REST_FRAMEWORK["NUM_PROXIES"] = env.int("NUM_PROXIES", default=0)

# Largest request body accepted, in bytes; views may declare a larger `max_body_bytes`.
REMAG_MAX_REQUEST_BODY_BYTES = env.int("MAX_REQUEST_BODY_BYTES", default=1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = REMAG_MAX_REQUEST_BODY_BYTES

# Base of the `type` URI of problem documents; each type is described at <base><slug>.
# Relative by default (served by this deployment); set an absolute URL for a public docs site.
REMAG_PROBLEM_TYPE_BASE_URL = env.str("PROBLEM_TYPE_BASE_URL", default="/api/problems/")
CSRF_FAILURE_VIEW = "remag.api.exceptions.csrf_failure"

# Largest supplier import file accepted, in bytes.
REMAG_IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=20 * 1024 * 1024)

# Jobs (remag/jobs.py: match runs, imports, webhook deliveries). A job failing with an
# error is retried with backoff and ends failed after JOB_MAX_ATTEMPTS failures; a job
# whose worker dies is taken over by the sweep until JOB_TIME_BUDGET_SECONDS after its
# first start. Transient database errors retry the same message JOB_TRANSIENT_RETRIES
# times first. Webhook deliveries have their own limit (WEBHOOK_RETRY_DELAYS).
REMAG_JOB_MAX_ATTEMPTS = env.int("JOB_MAX_ATTEMPTS", default=3)
REMAG_JOB_TRANSIENT_RETRIES = env.int("JOB_TRANSIENT_RETRIES", default=5)
REMAG_JOB_TIME_BUDGET_SECONDS = env.int("JOB_TIME_BUDGET_SECONDS", default=3600)
# Retries due within this many seconds are sent with a countdown; later ones by the sweep.
REMAG_JOB_DIRECT_RETRY_MAX_SECONDS = 900
# Sleep this long after a job is started (0 in production; tests and drills use it to
# kill a worker or the database connection mid-job).
REMAG_JOB_PAUSE_SECONDS = env.float("JOB_PAUSE_SECONDS", default=0.0)

# Matching. A run queued this long was lost by the broker and is resent; a run whose
# heartbeat is older than the lease lost its worker and is resent (see docs/operations.md).
REMAG_MATCH_RUN_QUEUED_TIMEOUT_SECONDS = env.int("MATCH_RUN_QUEUED_TIMEOUT_SECONDS", default=120)
REMAG_MATCH_RUN_LEASE_SECONDS = env.int("MATCH_RUN_LEASE_SECONDS", default=300)
# Imports, likewise (an import checkpoints and heartbeats every 200 rows).
REMAG_IMPORT_JOB_QUEUED_TIMEOUT_SECONDS = env.int("IMPORT_JOB_QUEUED_TIMEOUT_SECONDS", default=300)
REMAG_IMPORT_JOB_LEASE_SECONDS = env.int("IMPORT_JOB_LEASE_SECONDS", default=600)
# A burst of edits to one supplier within this window makes one opportunities refresh.
REMAG_OPPORTUNITY_REFRESH_DEBOUNCE_SECONDS = env.int(
    "OPPORTUNITY_REFRESH_DEBOUNCE_SECONDS", default=10
)

# Quotations and orders (docs/procurement.md). Attachments (PDF, PNG, JPEG) up to this
# size; a micro or small enterprise priced within this many percent above the lowest
# quotation is marked within the preference band (the Public Procurement Policy's L1+15%).
REMAG_QUOTATION_ATTACHMENT_MAX_BYTES = env.int(
    "QUOTATION_ATTACHMENT_MAX_BYTES", default=5 * 1024 * 1024
)
REMAG_MSE_PRICE_PREFERENCE_PERCENT = env.float("MSE_PRICE_PREFERENCE_PERCENT", default=15.0)

# Webhooks (docs/webhooks.md). Endpoints must be https unless WEBHOOK_ALLOW_HTTP (for
# development); a URL resolving to a private, loopback, link-local, multicast or other
# non-public address is refused unless its network is in WEBHOOK_ALLOWED_NETWORKS.
REMAG_WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=False)
REMAG_WEBHOOK_ALLOWED_NETWORKS = [
    str(ipaddress.ip_network(n, strict=False))  # a bad CIDR stops start-up, not a delivery
    for n in env.list("WEBHOOK_ALLOWED_NETWORKS", default=[])
]
REMAG_WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# Seconds to wait before each retry; attempts = 1 + len(delays). The default spreads
# nine attempts over about a day (1 min, 5 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h).
REMAG_WEBHOOK_RETRY_DELAYS = [
    float(d)
    for d in env.list(
        "WEBHOOK_RETRY_DELAYS",
        default=["60", "300", "1800", "3600", "7200", "14400", "28800", "28800"],
    )
]
# An endpoint is disabled after this many events in a row failed every attempt.
REMAG_WEBHOOK_DISABLE_AFTER = env.int("WEBHOOK_DISABLE_AFTER", default=5)
REMAG_WEBHOOK_SECRET_GRACE_HOURS = env.float("WEBHOOK_SECRET_GRACE_HOURS", default=24.0)
# The sweep sends deliveries due for longer than this that no worker holds.
REMAG_WEBHOOK_SWEEP_GRACE_SECONDS = env.int("WEBHOOK_SWEEP_GRACE_SECONDS", default=60)
# A worker sending a delivery holds it this long (more than the timeout); a delivery held
# longer lost its worker and the sweep sends it again.
REMAG_WEBHOOK_LEASE_SECONDS = env.float(
    "WEBHOOK_LEASE_SECONDS", default=REMAG_WEBHOOK_TIMEOUT_SECONDS + 30
)

# Prometheus metrics at /metrics, for `Authorization: Bearer <METRICS_TOKEN>` only; unset,
# the endpoint answers 404 (remag/metrics.py).
REMAG_METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# Retention (beat purges every 6 hours): events (with their deliveries) older than this
# many days are deleted; an import's uploaded file is dropped this many days after it
# finished (its counts and row errors stay).
REMAG_EVENT_RETENTION_DAYS = env.int("EVENT_RETENTION_DAYS", default=90)
REMAG_IMPORT_FILE_RETENTION_DAYS = env.int("IMPORT_FILE_RETENTION_DAYS", default=30)

# How long an Idempotency-Key is remembered.
REMAG_IDEMPOTENCY_KEY_TTL = timedelta(hours=env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24))

SPECTACULAR_SETTINGS = {
    "TITLE": "remag API",
    "DESCRIPTION": (
        "Matches Indian SMEs to the procurement needs of rare-earth permanent magnet "
        "manufacturers. Errors are RFC 9457 problem documents; lists use cursor "
        "pagination; creates accept an Idempotency-Key header."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ImportFormatEnum": "suppliers.choices.ImportFormat",
        "JobStatusEnum": "suppliers.choices.JobStatus",
        "StateEnum": "suppliers.states.STATE_CHOICES",
        "RequestStatusEnum": "matching.choices.RequestStatus",
        "MatchStatusEnum": "matching.choices.MatchStatus",
        "EventTypeEnum": "remag.webhooks.choices.EventType",
        "DeliveryStatusEnum": "remag.webhooks.choices.DeliveryStatus",
        "ClaimMethodEnum": "remag.accounts.choices.ClaimMethod",
        "ClaimStatusEnum": "remag.accounts.choices.ClaimStatus",
        "CertificationKindEnum": "suppliers.choices.CertificationKind",
        "KindEnum": "remag.accounts.choices.OrganizationKind",
        "QuantityUnitEnum": "suppliers.choices.QuantityUnit",
        "QuotationRequestStatusEnum": "matching.procurement.choices.QuotationRequestStatus",
        "QuotationStatusEnum": "matching.procurement.choices.QuotationStatus",
        "OrderStatusEnum": "matching.procurement.choices.OrderStatus",
        "CallKindEnum": "matching.collaboration.choices.CallKind",
        "CallStatusEnum": "matching.collaboration.choices.CallStatus",
        "InterestStatusEnum": "matching.collaboration.choices.InterestStatus",
        "PaymentTermsFlagEnum": "matching.procurement.choices.PaymentTermsFlag",
        "AttachmentTypeEnum": "matching.procurement.choices.AttachmentType",
        "MagnetOfferStatusEnum": "matching.magnets.choices.OfferStatus",
        "MagnetRequirementStatusEnum": "matching.magnets.choices.RequirementStatus",
        "MagnetMatchStatusEnum": "matching.magnets.choices.MatchStatus",
        "MagnetPoolStatusEnum": "matching.magnets.choices.PoolStatus",
        "MagnetUnitEnum": "matching.magnets.choices.CapacityUnit",
        "CapacityUnitEnum": "suppliers.choices.CapacityUnit",
        "OutcomeEnum": "matching.choices.Outcome",
        "MagnetCoatingEnum": "matching.magnets.choices.Coating",
        "MagnetisationEnum": "matching.magnets.choices.Magnetisation",
    },
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums"],
}

# ------------------------------------------------------------------ email and onboarding
# EMAIL_URL (django-environ): consolemail:// prints messages (the default, for `make run`);
# production sends through SMTP, e.g. smtp+tls://user:password@smtp.example.in:587.
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST") or "localhost"
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER") or ""
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = bool(_email.get("EMAIL_USE_TLS", False))
EMAIL_USE_SSL = bool(_email.get("EMAIL_USE_SSL", False))
if _email.get("EMAIL_FILE_PATH"):
    EMAIL_FILE_PATH = _email["EMAIL_FILE_PATH"]
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT_SECONDS", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="remag <no-reply@remag.invalid>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The address people reach this service at: links in emails start with it (never with
# the request's Host header, which a caller chooses).
REMAG_PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
# How long an email verification link stays valid.
REMAG_EMAIL_VERIFICATION_MAX_AGE = timedelta(
    hours=env.int("EMAIL_VERIFICATION_MAX_AGE_HOURS", default=48)
)
# How long a password reset token works.
REMAG_PASSWORD_RESET_MAX_AGE = timedelta(
    minutes=env.int("PASSWORD_RESET_MAX_AGE_MINUTES", default=60)
)
# How long an invitation to join an organisation works.
REMAG_INVITATION_MAX_AGE = timedelta(days=env.int("INVITATION_MAX_AGE_DAYS", default=7))
# Claiming a profile a portal onboarded: the emailed code's life and wrong tries allowed.
REMAG_CLAIM_CODE_MAX_AGE = timedelta(minutes=env.int("CLAIM_CODE_MAX_AGE_MINUTES", default=30))
REMAG_CLAIM_CODE_MAX_ATTEMPTS = env.int("CLAIM_CODE_MAX_ATTEMPTS", default=5)
# How long a personal token issued by log-in lives.
REMAG_LOGIN_TOKEN_TTL = timedelta(days=env.int("LOGIN_TOKEN_TTL_DAYS", default=30))
# Budgets of the attempts an attacker would repeat: each counted per client address and
# per email address or account the attempt names (remag.api.throttling.AttemptRateThrottle).
REMAG_THROTTLE_RATES.update(
    {
        "signup": env.str("THROTTLE_RATE_SIGNUP", default="10/hour"),
        "login": env.str("THROTTLE_RATE_LOGIN", default="20/hour"),
        "verification": env.str("THROTTLE_RATE_VERIFICATION", default="20/hour"),
        "password_reset": env.str("THROTTLE_RATE_PASSWORD_RESET", default="10/hour"),
        "claim": env.str("THROTTLE_RATE_CLAIM", default="10/hour"),
    }
)


# ------------------------------------------------------------------ security
# Each hardening switch follows DEBUG by default and can be set on its own, e.g. when
# TLS ends at a proxy (set SECURE_PROXY_SSL_HEADER_ENABLED) or for a plain-HTTP staging box.

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env.bool("SECURE_PROXY_SSL_HEADER_ENABLED", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Health probes come over plain HTTP from the orchestrator, never redirected.
# Probes and the metrics scrape come from inside the network (the token guards /metrics).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# ------------------------------------------------------------------ static files

STATIC_URL = "static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "var" / "static"))
# Uploaded files (quotation attachments) go through Django's storage API: the filesystem
# under MEDIA_ROOT by default; STORAGE_BACKEND=s3 keeps them in S3-compatible object
# storage through django-storages (`pip install "remag[s3]"`; docs/operations.md).
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))
MEDIA_URL = "media/"  # never served by the app: attachments are read through the API
STORAGE_BACKEND = env.str("STORAGE_BACKEND", default="filesystem")
if STORAGE_BACKEND == "s3":
    DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "location": env.str("AWS_LOCATION", default=""),
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
elif STORAGE_BACKEND == "filesystem":
    DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
else:
    raise ImproperlyConfigured(f"STORAGE_BACKEND must be filesystem or s3, not {STORAGE_BACKEND!r}")
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "remag.storage.ForgivingManifestStaticFilesStorage"
        )
    },
}
# Production serves hashed, compressed copies collected into STATIC_ROOT (`collectstatic`
# at build or install time). Until that has run there is no manifest: names then fall
# back to the apps' own files, found and served by WhiteNoise, instead of a 500 on every
# page that links an asset (the API docs, the admin, the browsable API). See
# remag/storage.py.
WHITENOISE_USE_FINDERS = True

# ------------------------------------------------------------------ logging

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# JSON lines (one object per record, with the request id; remag/observability.py) by
# default in production; plain text under DEBUG. LOG_FORMAT=json|plain overrides.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "remag.observability.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "remag.observability.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
    },
}

# ------------------------------------------------------------------ tests

# Under REMAG_REQUIRE_SERVICES=1 (CI) a test that needs PostgreSQL or Redis fails
# instead of being skipped when the service is not configured or not reachable.
REMAG_REQUIRE_SERVICES = env.bool("REMAG_REQUIRE_SERVICES", default=False)
