"""The merchant API under /api/v1/: links, payments, refunds and analytics of one merchant.

Integrators get an access token from allauth's token endpoint with the OAuth 2.0
client-credentials grant (a JWT), and send it as ``Authorization: Bearer <token>``. Every
operation is its own DRF view with an ``InputSerializer`` and an ``OutputSerializer``;
writes go through ``paylinks.services``, reads through ``paylinks.selectors``, the same
functions the console uses. Every object is scoped to the token's merchant: another
merchant's id answers 404, exactly like an id that does not exist.
"""
