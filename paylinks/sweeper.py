"""The sweeper: one pass over everything that may have been left behind.

The worker runs it every ``PAYLINKS_SWEEP_SECONDS`` (``manage.py worker``) and operators
run it on demand (``manage.py reconcile``). Every step claims its rows before working on
them, so several workers may sweep at once.
"""

from __future__ import annotations

from collections import Counter

from paylinks.gateways import get_gateway
from paylinks.notifications import delivery, outbox
from paylinks.selectors.payments import payments_due_for_check
from paylinks.services.idempotency import idempotency_keys_purge
from paylinks.services.links import links_announce_expired
from paylinks.services.reconcile import payment_reconcile
from paylinks.services.refunds import retry_pending_refunds
from paylinks.webhooks import inbox


def sweep(*, everything: bool = False) -> dict[str, int]:
    """Gateway housekeeping, due inbox events, stale payments, refunds of unknown outcome,
    finished inbox events past their retention, and merchant API idempotency keys past
    their replay window, links that expired (``link.expired``), due outgoing webhooks, and
    outgoing events whose deliveries all finished before their retention."""
    counts: Counter[str] = Counter()
    for key, value in get_gateway().housekeeping().items():
        counts[f"gateway_{key}"] += value
    for outcome, n in inbox.drain().items():
        counts["events_" + outcome] += n
    counts["events_pruned"] += inbox.prune_finished()
    for payment_id in payments_due_for_check(everything=everything):
        outcome = payment_reconcile(payment_id)
        counts["payments_" + outcome.split(":", 1)[0]] += 1
    counts["refunds_retried"] += retry_pending_refunds()
    counts["idempotency_keys_forgotten"] += idempotency_keys_purge()
    counts["links_expired"] += links_announce_expired()
    for outcome, n in delivery.drain(seconds=10).items():
        counts["webhooks_" + outcome] += n
    counts["webhooks_pruned"] += outbox.prune_finished()
    return dict(counts)
