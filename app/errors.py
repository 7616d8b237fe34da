"""Errors the user sees. Each message says what happened and what to do."""

from __future__ import annotations


class DossierError(Exception):
    """Base class: ``str(err)`` is a complete, plain-language message for the user."""


class PdfError(DossierError):
    """A PDF could not be read (broken, not a PDF, empty)."""


class PasswordRequired(PdfError):
    """The PDF is encrypted with a user password and none (or a wrong one) was given."""


class Cancelled(DossierError):
    """The user cancelled the operation."""

    def __init__(self, message: str = "Cancelled.") -> None:
        super().__init__(message)


class StoreError(DossierError):
    """The index folder cannot be used (read-only, locked, damaged)."""


class ModelError(DossierError):
    """The language model could not be loaded or crashed."""
