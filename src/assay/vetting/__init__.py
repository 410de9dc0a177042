"""Vetting: static analysis of what could run, never running it.

- Package archives: :func:`analyse_archive` (:mod:`assay.vetting.engine`) reads a
  wheel or sdist in memory through the safe reader (:mod:`assay.vetting.archives`),
  runs the rule families in :mod:`assay.vetting.rules` and scores the result.
- Package names: :mod:`assay.vetting.names` (typosquats) and
  :mod:`assay.vetting.slopsquat` (names that look plausible but are not established).
- Model files: ``scan_file``/``scan_directory`` (:mod:`assay.vetting.model_files`)
  return one :class:`FileScan` per weight file with its :class:`Finding` list.
"""

from assay.vetting.engine import VetReport, analyse_archive, vet_bytes
from assay.vetting.findings import FileScan, Finding, blocking
from assay.vetting.model_files import scan_directory, scan_file

__all__ = [
    "FileScan",
    "Finding",
    "VetReport",
    "analyse_archive",
    "blocking",
    "scan_directory",
    "scan_file",
    "vet_bytes",
]
