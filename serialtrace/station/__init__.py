"""Scanning stations: profiles, the scan log, resolving a scan to units, batches and claims."""
