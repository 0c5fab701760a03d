"""Paylinks settings package: ``base`` plus one module per integration."""

from .allauth import *  # noqa: F403
from .api import *  # noqa: F403
from .base import *  # noqa: F403
from .ops import *  # noqa: F403
from .payments import *  # noqa: F403
from .unfold import *  # noqa: F403
from .wagtail import *  # noqa: F403
