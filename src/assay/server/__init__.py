"""HTTP services over assay's local data: the OSV-compatible advisory API."""

from assay.server.osv_api import create_osv_app

__all__ = ["create_osv_app"]
