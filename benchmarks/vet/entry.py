"""What ``assay vet --offline`` decides about one file, as the vetting benchmark's entry point.

    .venv/bin/python -m benchmarks.vet.run --assay-entry benchmarks.vet.entry:vet_offline

The package analysis plus the name checks the CLI runs without a network: the
project name and every declared dependency against the popular-packages list of
assay's settings (``ASSAY_POPULAR_PACKAGES``), else the shared top-15,000 list.
The slopsquat signals need the index and are not asked (as with ``--offline``).
The list is loaded once, when this module is imported, so no sample pays for
it.  ``assay.vetting:vet_bytes`` measures the package analysis alone.
"""

from __future__ import annotations

from assay.settings import Settings
from assay.vetting.archives import ArchiveReading
from assay.vetting.name_checks import NameChecker
from assay.vetting.names import NameIndex
from assay.vetting.popularity import load_popular
from assay.vetting.verdict import Verdict, vet_members
from benchmarks.vet.corpus import TOP_PACKAGES

_POPULAR = Settings.from_env().popular_packages or TOP_PACKAGES
_CHECKER = NameChecker(NameIndex.build(load_popular(_POPULAR)), None, "")


def vet_offline(filename: str, data: bytes) -> Verdict:
    """The verdict ``assay vet --offline FILE`` prints for ``data`` named ``filename``."""
    reading = ArchiveReading(data, filename)
    return vet_members(
        filename,
        reading,
        reading.report,
        _CHECKER.check,
        target=filename,
        origin="file",
        sha256=None,
    )
