import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
application = get_wsgi_application()

# Load the URLconf (and with it every view, admin and API module) now rather than on the
# first request, then move everything loaded so far out of the garbage collector's
# sight: it lives as long as the process, and the collections that run between
# requests then walk only what requests create (shorter pauses, steadier tail latency;
# docs/scaling.md).
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018
gc.freeze()
