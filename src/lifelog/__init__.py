"""lifelog: record what happens at a computer and hand it to models as token-budgeted context."""

__version__ = "0.1.0"
