"""OncoRoute sla: keeps every case's clock, warns, escalates."""
