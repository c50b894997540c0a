"""Errors raised by the ingest layer."""


class ContractError(Exception):
    """Input breaks the data contract as a whole (unreadable file, missing column, ...).

    The message always names the file and says what was expected; the command line prints
    it as one line.
    """


class CountMismatchError(RuntimeError):
    """Ingest accounting does not add up: rows read != loaded + quarantined + duplicates."""
