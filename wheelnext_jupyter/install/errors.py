"""The installer's base error, importable without the installer (the command line names it
among the errors it reports as such, before any install has started)."""


class TransactionError(RuntimeError):
    """An install that was rolled back or could not start; the message says why."""
