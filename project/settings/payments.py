"""Payment gateways: the sandbox (default) and Stripe."""

import hashlib

from django.core.exceptions import ImproperlyConfigured

from .base import DEBUG, PAYLINKS_GATEWAY, SECRET_KEY
from .env import env_bool, env_int, env_secret, env_str

STRIPE_SECRET_KEY = env_secret("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env_secret("STRIPE_WEBHOOK_SECRET")
if not STRIPE_WEBHOOK_SECRET and PAYLINKS_GATEWAY == "sandbox":
    # The sandbox signs its own events; without a configured secret it derives one from
    # SECRET_KEY, so no shared default secret exists anywhere.
    STRIPE_WEBHOOK_SECRET = "whsec_" + hashlib.sha256(f"{SECRET_KEY}:sandbox".encode()).hexdigest()
# How long support staff see one payment's customer in full after revealing it.
PAYLINKS_REVEAL_MINUTES = env_int("PAYLINKS_REVEAL_MINUTES", 10)
# Points the official SDK at another host (a local Stripe-compatible server in tests).
STRIPE_API_BASE = env_str("STRIPE_API_BASE")
SANDBOX_SETTLE_SECONDS = env_int("SANDBOX_SETTLE_SECONDS", 20)

PAYLINKS_GATEWAYS = {
    "sandbox": "paylinks.gateways.sandbox.gateway.SandboxGateway",
    "stripe": "paylinks.gateways.stripe.StripeGateway",
}
# Network behaviour of the Stripe adapter: bounded timeouts, a few retries on network errors.
STRIPE_TIMEOUT_SECONDS = env_int("STRIPE_TIMEOUT_SECONDS", 15)
STRIPE_MAX_NETWORK_RETRIES = env_int("STRIPE_MAX_NETWORK_RETRIES", 2)
# The total time every gateway call of one web request may take, retries and back-off
# included; keep it well below the web server's worker timeout (gunicorn --timeout, 30 s
# by default: docs/operations.md). The worker has no such deadline.
PAYLINKS_GATEWAY_DEADLINE_SECONDS = env_int("PAYLINKS_GATEWAY_DEADLINE_SECONDS", 10)
# Where the sandbox delivers its events (default: this site's own webhook endpoint).
SANDBOX_WEBHOOK_URL = env_str("SANDBOX_WEBHOOK_URL")
# How long a customer has to finish a hosted checkout (Stripe accepts 30 min .. 24 h).
PAYLINKS_CHECKOUT_TTL_MINUTES = env_int("PAYLINKS_CHECKOUT_TTL_MINUTES", 30)
# On a link with a payment limit, how many open (unpaid) checkouts one client -- one IP
# address as the public API's rate limits see it -- may hold at once; 0 turns it off.
PAYLINKS_PLACES_PER_CLIENT = env_int("PAYLINKS_PLACES_PER_CLIENT", 2)
# How often the worker's sweeper re-checks pending payments and retries webhook events.
PAYLINKS_SWEEP_SECONDS = env_int("PAYLINKS_SWEEP_SECONDS", 15)
# A web process gathers new webhook events for up to this long before waking a worker
# for them (one task per window instead of one per event); 0 wakes one per event.
PAYLINKS_WEBHOOK_BATCH_MS = env_int("PAYLINKS_WEBHOOK_BATCH_MS", 500)
# Raw gateway events hold customer details: the sweeper deletes finished ones (inbox events
# processed or ignored, sandbox events delivered) this many days after; 0 keeps them.
PAYLINKS_WEBHOOK_RETENTION_DAYS = env_int("PAYLINKS_WEBHOOK_RETENTION_DAYS", 30)
if PAYLINKS_WEBHOOK_RETENTION_DAYS < 0:
    raise ImproperlyConfigured("PAYLINKS_WEBHOOK_RETENTION_DAYS must be 0 (keep) or more days")
# Visits to a link's page by the same visitor within this many minutes count once.
PAYLINKS_VIEW_WINDOW_MINUTES = env_int("PAYLINKS_VIEW_WINDOW_MINUTES", 30)
# Google Analytics 4 (optional, per merchant): where the worker sends Measurement Protocol
# events, and how long it waits for an answer before giving up on one.
PAYLINKS_GA4_URL = env_str("PAYLINKS_GA4_URL", "https://www.google-analytics.com/mp/collect")
PAYLINKS_GA4_TIMEOUT_SECONDS = env_int("PAYLINKS_GA4_TIMEOUT_SECONDS", 5)
# Outgoing webhooks (paylinks/notifications/): plain http:// endpoints are refused unless
# DEBUG or this is set; endpoints whose host resolves to a private, loopback or link-local
# address only with PAYLINKS_WEBHOOK_ALLOW_PRIVATE (local development and tests).
PAYLINKS_WEBHOOK_ALLOW_HTTP = env_bool("PAYLINKS_WEBHOOK_ALLOW_HTTP", DEBUG)
PAYLINKS_WEBHOOK_ALLOW_PRIVATE = env_bool("PAYLINKS_WEBHOOK_ALLOW_PRIVATE", False)
# Deliveries sent at once by one worker (threads; they hold no database connection), and
# at most this many in flight per endpoint, so one slow endpoint never holds the others up.
PAYLINKS_WEBHOOK_THREADS = env_int("PAYLINKS_WEBHOOK_THREADS", 32)
PAYLINKS_WEBHOOK_PER_ENDPOINT = env_int("PAYLINKS_WEBHOOK_PER_ENDPOINT", 4)
# Seconds one delivery may take in all (connect, send, answer) before it counts as failed.
PAYLINKS_WEBHOOK_TIMEOUT_SECONDS = env_int("PAYLINKS_WEBHOOK_TIMEOUT_SECONDS", 10)
# An endpoint that has failed every delivery for this many hours is disabled (owners mailed).
PAYLINKS_WEBHOOK_DISABLE_HOURS = env_int("PAYLINKS_WEBHOOK_DISABLE_HOURS", 72)
# Outgoing webhook events (their payloads may hold a customer's e-mail) and their delivery
# log: the sweeper deletes an event once every delivery of it finished (delivered or given
# up) this many days ago; 0 keeps them. At least 7: the sweeper's check that an expired
# link was announced looks back a week at the events, and "Replay since" reaches only as
# far back as events are kept.
PAYLINKS_OUTGOING_RETENTION_DAYS = env_int("PAYLINKS_OUTGOING_RETENTION_DAYS", 30)
if PAYLINKS_OUTGOING_RETENTION_DAYS < 0 or 0 < PAYLINKS_OUTGOING_RETENTION_DAYS < 7:
    raise ImproperlyConfigured(
        "PAYLINKS_OUTGOING_RETENTION_DAYS must be 0 (keep) or at least 7 days"
    )
