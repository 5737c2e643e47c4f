"""Accounts: users, API tokens, roles and the sign-in rules."""
