"""Errors of the GS1 rules: a broken rule, and a search for readings that ran out of time."""


class GS1Error(ValueError):
    """GS1 data that breaks a rule; the message names the AI and the rule."""


class SearchTooComplex(GS1Error):
    """Data whose readings cannot be told apart within the time a scan may take."""
