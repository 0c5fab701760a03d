"""Signing in: allauth adapters and forms, the axes lockout hooks, and the MFA session proof.

allauth does the work (accounts, e-mail verification, MFA, social/OIDC login) and axes locks
out brute force; this package holds the few Paylinks decisions on top of them:

- sign-up is closed unless ``PAYLINKS_OPEN_SIGNUP`` is on (merchants invite their members);
- a social login joins an existing account by e-mail only when the provider vouches for the
  address and the account cannot have been prepared by someone else (``adapters``);
- setting a password through an e-mailed reset link proves the address (``forms``);
- a session holds an MFA proof once its person has passed a second factor (``mfa``), which
  ``paylinks.middleware.RequireMFAMiddleware`` checks for the people who must use MFA.
"""
