"""Settings of the floor project: what ``django-admin startproject`` generates (Django
6.0), with only what running it needs changed.

Kept exactly as generated: ``INSTALLED_APPS`` (plus ``bench.baseline``, the one app with
the one model), ``MIDDLEWARE``, ``TEMPLATES``, password validators, i18n. Changed:
``DEBUG`` off, ``ALLOWED_HOSTS``, the secret key from the environment, and the database:
PostgreSQL with persistent connections and health checks, as Paylinks runs
(``project/settings/base.py``). It does NOT import ``project.settings``: nothing of
Paylinks' stack is here.
"""

import os
import secrets

import dj_database_url

SECRET_KEY = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(48)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "bench.baseline",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "bench.floor.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

WSGI_APPLICATION = "bench.floor.wsgi.application"

# The floor's own database on the benchmark's PostgreSQL server (bench/run.py creates it),
# with the connection options Paylinks uses: persistent, health-checked.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ["FLOOR_DATABASE_URL"], conn_max_age=60, conn_health_checks=True
    )
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
