"""What the built-in providers share: the error for a malformed override variable."""

from __future__ import annotations


class ProviderOverrideError(ValueError):
    """An override environment variable whose value the provider cannot use."""

    def __init__(self, variable: str, value: str, expected: str) -> None:
        self.variable = variable
        super().__init__(
            f"{variable}={value!r} is not valid: expected {expected}; "
            f"fix the value or unset {variable} to use detection"
        )
