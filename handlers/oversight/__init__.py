"""The Lead Officer's view across groups: anonymised counts and themes."""
