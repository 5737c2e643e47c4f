"""The one error type of the GS1 rules."""


class GS1Error(ValueError):
    """GS1 data that breaks a rule; the message names the AI and the rule."""
