"""Vulnerability advisories: OSV records, exact matching, a local database, audits."""
