"""Benchmarks: scripts run by hand or by `make bench`, never imported by assay itself."""
