"""Configuration classes. Every setting can come from the environment."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_PATH = Path(os.environ.get("PORTAL_INSTANCE_DIR") or BASE_DIR / "instance")

#: The value shipped for development; production refuses to start with it.
DEFAULT_SECRET_KEY = "dev-secret-key-change-me"  # noqa: S105 - a placeholder, refused in production


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
    # Salts are not secrets in themselves but must differ between installations.
    SECURITY_PASSWORD_SALT = os.environ.get("SECURITY_PASSWORD_SALT", "portal-password-salt")
    INSTANCE_DIR = str(INSTANCE_PATH)

    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_PATH / 'portal.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    #: A pooled connection idle this long is checked before use (a server database only).
    DATABASE_PING_AFTER_IDLE_SECONDS = float(
        os.environ.get("DATABASE_PING_AFTER_IDLE_SECONDS", "1")
    )
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    SQLITE_BUSY_TIMEOUT_MS = _int("SQLITE_BUSY_TIMEOUT_MS", 5000)
    #: Log write transactions that waited for or held SQLite's write lock this long (0: off).
    SQLITE_LOCK_LOG_MS = _int("SQLITE_LOCK_LOG_MS", 0)
    #: Python's thread switch interval in a process on SQLite (the default is 5 ms): how long
    #: a thread that holds the write lock may wait for the interpreter after each statement.
    SQLITE_SWITCH_INTERVAL_MS = float(os.environ.get("SQLITE_SWITCH_INTERVAL_MS", "1"))

    REDIS_URL = os.environ.get("REDIS_URL", "")

    # Sessions and cookies
    SESSION_COOKIE_NAME = "portal_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 24 * 14
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "https")
    SERVER_NAME = os.environ.get("SERVER_NAME") or None
    FORCE_HTTPS = _bool("FORCE_HTTPS", False)
    MAX_CONTENT_LENGTH = 30 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 1024 * 1024

    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead of a clock

    # Internationalisation
    LANGUAGES = {
        "en": "English",
        "lv": "Latviešu",
        "pl": "Polski",
        "ru": "Русский",
        "zh_Hans": "简体中文",
        "ar": "العربية",
    }
    RTL_LANGUAGES = {"ar"}
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    BABEL_TRANSLATION_DIRECTORIES = "translations"

    # Mail: "smtp" sends through MAIL_SERVER, "file" writes .eml files under instance/mail.
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "smtp")
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Portal <no-reply@portal.example>")
    MAIL_FILE_DIR = str(INSTANCE_PATH / "mail")
    MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 10)
    MAIL_SUPPRESS_SEND = False  # tests talk to a real SMTP server

    # Flask-Security
    SECURITY_PASSWORD_HASH = "argon2"  # noqa: S105 - the scheme's name, argon2id
    SECURITY_PASSWORD_LENGTH_MIN = 8
    SECURITY_REGISTERABLE = True
    SECURITY_CONFIRMABLE = True
    SECURITY_RECOVERABLE = True
    SECURITY_CHANGEABLE = True
    SECURITY_CHANGE_EMAIL = True
    SECURITY_TRACKABLE = True
    SECURITY_API_ENABLED_METHODS = ["session"]  # no Flask-Security tokens (see core.auth)
    # The signed-in user's roles load on first use with one indexed query: the joined load
    # Flask-Security does by default makes SQLite scan every role membership per request.
    SECURITY_JOIN_USER_ROLES = False
    SECURITY_TWO_FACTOR = True
    SECURITY_TWO_FACTOR_ENABLED_METHODS = ["authenticator"]
    SECURITY_TOTP_ISSUER = "Portal"
    # Flask-Security's own catalogs, then ours (Latvian, and locales it names differently).
    SECURITY_I18N_DIRNAME = ["builtin", str(BASE_DIR / "portal" / "translations")]
    SECURITY_TOTP_SECRETS = {"1": os.environ.get("TOTP_SECRET", "portal-totp-dev-secret")}
    SECURITY_MULTI_FACTOR_RECOVERY_CODES = True
    SECURITY_RETURN_GENERIC_RESPONSES = True
    SECURITY_SEND_REGISTER_EMAIL = True
    SECURITY_USERNAME_ENABLE = False
    # Deliverability checks need DNS; the confirmation mail proves the address instead.
    SECURITY_EMAIL_VALIDATOR_ARGS = {
        "check_deliverability": _bool("EMAIL_CHECK_DELIVERABILITY", False)
    }
    SECURITY_EMAIL_SENDER = MAIL_DEFAULT_SENDER
    SECURITY_POST_LOGIN_VIEW = "/"
    SECURITY_POST_LOGOUT_VIEW = "/"
    SECURITY_POST_REGISTER_VIEW = "/login"
    SECURITY_POST_CONFIRM_VIEW = "/login"
    SECURITY_POST_CHANGE_VIEW = "/account/security"
    SECURITY_TWO_FACTOR_POST_SETUP_VIEW = "/account/security"
    SECURITY_CONFIRM_EMAIL_WITHIN = timedelta(days=3)
    SECURITY_RESET_PASSWORD_WITHIN = timedelta(days=1)
    SECURITY_REDIRECT_ALLOW_SUBDOMAINS = False
    SECURITY_URL_PREFIX = None
    SECURITY_MSG_INVALID_PASSWORD = ("Invalid e-mail address or password.", "error")
    SECURITY_MSG_USER_DOES_NOT_EXIST = ("Invalid e-mail address or password.", "error")
    SECURITY_MSG_GENERIC_AUTHN_FAILED = ("Invalid e-mail address or password.", "error")

    # Rate limits
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    # When Redis dies, the thread that notices switches the process to the in-memory
    # fallback; a request other threads had in flight against Redis at that moment is let
    # through (and logged) instead of failing with a 500.
    RATELIMIT_SWALLOW_ERRORS = True
    RATELIMIT_HEADERS_ENABLED = True
    # Public pages rendered for visitors, kept per worker process (0 pages: off).
    PAGE_CACHE_SIZE = _int("PAGE_CACHE_SIZE", 256)
    PAGE_CACHE_SECONDS = _int("PAGE_CACHE_SECONDS", 60)
    #: Compiled templates kept on disk, so that a new worker loads them instead of compiling
    #: them again on its first requests (empty: off). Each file is checked against its source.
    TEMPLATE_CACHE_DIR = os.environ.get("TEMPLATE_CACHE_DIR", str(INSTANCE_PATH / "template-cache"))
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "6 per minute;30 per hour")
    ACCOUNT_FORM_RATE_LIMIT = os.environ.get("ACCOUNT_FORM_RATE_LIMIT", "10 per hour")

    # Customers
    GOLDEN_PERCENTILE = _int("GOLDEN_PERCENTILE", 10)
    LAPSED_DAYS = _int("LAPSED_DAYS", 180)
    SURVEY_AFTER_DELIVERY_DAYS = _int("SURVEY_AFTER_DELIVERY_DAYS", 3)

    # Feedback: posting limits per signed-in user, attachment size, suggestion retraining
    FEEDBACK_RATE_LIMIT = os.environ.get("FEEDBACK_RATE_LIMIT", "10 per hour")
    FEEDBACK_REPLY_RATE_LIMIT = os.environ.get("FEEDBACK_REPLY_RATE_LIMIT", "30 per hour")
    FEEDBACK_ATTACHMENT_MAX_BYTES = _int("FEEDBACK_ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024)
    FEEDBACK_MODEL_MAX_AGE = _int("FEEDBACK_MODEL_MAX_AGE", 300)

    # Jobs: huey on REDIS_URL when set, else an SQLite queue in instance/huey.db.
    # JOBS_IMMEDIATE runs tasks in the calling thread (tests of features that send mail).
    JOBS_IMMEDIATE = _bool("JOBS_IMMEDIATE", False)
    MAIL_RATE_PER_MINUTE = _int("MAIL_RATE_PER_MINUTE", 600)
    MAIL_BATCH_SECONDS = _int("MAIL_BATCH_SECONDS", 10)
    MAIL_MAX_ATTEMPTS = _int("MAIL_MAX_ATTEMPTS", 6)
    MAIL_RETRY_BASE_SECONDS = _int("MAIL_RETRY_BASE_SECONDS", 30)
    # A message "sending" for longer than this was interrupted (worker killed): sent again.
    MAIL_SENDING_TIMEOUT = _int("MAIL_SENDING_TIMEOUT", 600)
    # Absolute links in mail written outside a request (the worker, commands): the portal's
    # address, as its users reach it.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = True
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PREFERRED_URL_SCHEME = os.environ.get("PREFERRED_URL_SCHEME", "http")
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "file")


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret-key"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = os.environ.get("PORTAL_TEST_DATABASE_URL", "sqlite://")
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    PREFERRED_URL_SCHEME = "http"
    SERVER_NAME = None
    RATELIMIT_STORAGE_URI = "memory://"
    TEMPLATE_CACHE_DIR = ""
    MAIL_BACKEND = "smtp"
    JOBS_IMMEDIATE = True
    FEEDBACK_MODEL_MAX_AGE = 0


class ProductionConfig(Config):
    DEBUG = False
    FORCE_HTTPS = _bool("FORCE_HTTPS", True)


config_by_name: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
