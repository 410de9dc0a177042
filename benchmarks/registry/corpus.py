"""The benchmark's local upstream: 30 projects named after a common ML set, built locally.

The wheels are stand-ins built by :mod:`tests.registry.upstream_index` (real
wheels, tiny modules plus a deterministic incompressible payload so files have
realistic-ish sizes of 20 KiB to 2 MiB); every project has five releases so its
page lists several files.  Nothing is fetched from any index.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.registry.upstream_index import Dist, UpstreamIndex

# (name, newest version, payload KiB of the newest wheel, license)
ML_SET: tuple[tuple[str, str, int, str], ...] = (
    ("numpy", "2.1.3", 2048, "BSD-3-Clause"),
    ("pandas", "2.2.3", 1536, "BSD-3-Clause"),
    ("scipy", "1.14.1", 2048, "BSD-3-Clause"),
    ("scikit-learn", "1.5.2", 1024, "BSD-3-Clause"),
    ("matplotlib", "3.9.2", 1024, "PSF-2.0"),
    ("seaborn", "0.13.2", 256, "BSD-3-Clause"),
    ("statsmodels", "0.14.4", 1024, "BSD-3-Clause"),
    ("xgboost", "2.1.2", 1536, "Apache-2.0"),
    ("lightgbm", "4.5.0", 512, "MIT"),
    ("joblib", "1.4.2", 128, "BSD-3-Clause"),
    ("threadpoolctl", "3.5.0", 20, "BSD-3-Clause"),
    ("python-dateutil", "2.9.0", 64, "Apache-2.0"),
    ("pytz", "2024.2", 256, "MIT"),
    ("tzdata", "2024.2", 128, "Apache-2.0"),
    ("six", "1.16.0", 20, "MIT"),
    ("packaging", "24.2", 32, "Apache-2.0"),
    ("pyparsing", "3.2.0", 64, "MIT"),
    ("cycler", "0.12.1", 20, "BSD-3-Clause"),
    ("kiwisolver", "1.4.7", 256, "BSD-3-Clause"),
    ("fonttools", "4.54.1", 1024, "MIT"),
    ("pillow", "11.0.0", 1024, "MIT-CMU"),
    ("contourpy", "1.3.0", 256, "BSD-3-Clause"),
    ("patsy", "0.5.6", 128, "BSD-2-Clause"),
    ("tqdm", "4.67.0", 64, "MIT"),
    ("requests", "2.32.3", 64, "Apache-2.0"),
    ("urllib3", "2.2.3", 128, "MIT"),
    ("idna", "3.10", 64, "BSD-3-Clause"),
    ("certifi", "2024.8.30", 160, "MPL-2.0"),
    ("charset-normalizer", "3.4.0", 128, "MIT"),
    ("jinja2", "3.1.4", 128, "BSD-3-Clause"),
)
RELEASES = 5
UPLOADED = datetime(2024, 6, 1, tzinfo=UTC)


def releases(name: str, newest: str, payload_kib: int, license_id: str) -> list[Dist]:
    """Five releases of one project; the newest carries the payload."""
    rng = random.Random(name)  # noqa: S311 - deterministic filler bytes, not security
    dists = []
    for step in range(RELEASES - 1, -1, -1):
        version = newest if step == 0 else f"0.{step}.0"
        payload = rng.randbytes(payload_kib * 1024 // 3) if step == 0 else b""
        when = UPLOADED - timedelta(days=30 * step)
        dists.append(
            Dist(name, version, license_expression=license_id, upload_time=when, payload=payload)
        )
    return dists


def populate(index: UpstreamIndex) -> list[str]:
    """Add every release to ``index``; the ``name==version`` pins of the newest releases."""
    pins = []
    for name, newest, size, license_id in ML_SET:
        for dist in releases(name, newest, size, license_id):
            index.add(dist)
        pins.append(f"{name}=={newest}")
    return pins


def requirements_file(directory: Path, pins: list[str]) -> Path:
    path = directory / "ml-set.txt"
    path.write_text("\n".join(pins) + "\n", encoding="utf-8")
    return path
