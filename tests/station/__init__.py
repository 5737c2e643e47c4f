"""Tests of the station package: scan flow, scan log, profiles, scan resolution."""
