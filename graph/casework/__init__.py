"""Casework: analysts' decisions, ban batches, exports and the audit log that records every one."""
