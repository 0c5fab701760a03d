"""Every write in Paylinks goes through a function here: views, admin, API and tasks call
them and hold no business rules of their own."""
