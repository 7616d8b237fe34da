"""The audit trail: every question, answer, summary and review, in a hash-chained log.

``log`` keeps the chain (append, crash recovery), ``verify`` checks it, ``records`` says
what an entry holds and wraps the service calls, ``export`` writes reports.
"""

from app.audit.log import AuditError, AuditLog, Verification

AUDIT_DIR = "audit"

__all__ = ["AUDIT_DIR", "AuditError", "AuditLog", "Verification"]
