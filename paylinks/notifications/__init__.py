"""What leaves Paylinks to tell people something: e-mail today (``mail``)."""
