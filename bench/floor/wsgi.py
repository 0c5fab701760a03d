"""WSGI entry point of the floor project, as ``django-admin startproject`` writes it."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.floor.settings")

application = get_wsgi_application()
