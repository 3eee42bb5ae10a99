"""The reports' figures, one module per report; each function asks the database for
aggregates (counts, sums, percentiles) and never loads cases into Python."""
