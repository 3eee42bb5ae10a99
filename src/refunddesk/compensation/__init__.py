"""Mass compensation: after an outage, one audited, four-eyes, exactly-once run that opens a
case per customer for the affected order lines (docs/compensation.md)."""
