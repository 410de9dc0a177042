"""Model-file safety: static scanning of weight files, never loading them.

``scan_file``/``scan_directory`` (:mod:`assay.vetting.model_files`) return one
:class:`FileScan` per file with its :class:`Finding` list.
"""

from assay.vetting.findings import FileScan, Finding, blocking
from assay.vetting.model_files import scan_directory, scan_file

__all__ = ["FileScan", "Finding", "blocking", "scan_directory", "scan_file"]
