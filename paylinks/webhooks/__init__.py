"""The webhook pipeline, one path for every gateway.

    verify the signature on the raw body -> store the event in the inbox (unique per
    gateway and event id) -> answer 200 -> workers drain the inbox in batches

- ``views``: the endpoint gateways post to (verify, store, answer);
- ``inbox``: the durable table's life: storing an event once, waking workers, leasing due
  events, retrying failed ones with backoff, and the ``drain_inbox`` task;
- ``handlers``: what each event type means for a payment, as an explicit
  ``{event type: handler}`` table. A handler only finds the payment in the event; what
  changes comes from asking the gateway again (``payment_refresh``).

Imports go one way: views -> inbox -> handlers -> services.
"""
