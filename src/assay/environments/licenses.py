"""Declared licenses to SPDX expressions.

The order follows core metadata: ``License-Expression`` (PEP 639) first, then a
``License`` field that parses as SPDX, then trove classifiers mapped to SPDX
ids; otherwise the raw text is kept with no SPDX form.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from license_expression import ExpressionError, get_spdx_licensing

from assay.environments.model import License

# Common spellings in ``License:`` fields that are unambiguous names of one SPDX license.
_ALIASES = {
    "apache 2.0": "Apache-2.0",
    "apache 2": "Apache-2.0",
    "apache-2": "Apache-2.0",
    "apache license 2.0": "Apache-2.0",
    "apache license, version 2.0": "Apache-2.0",
    "apache software license 2.0": "Apache-2.0",
    "apache software license": "Apache-2.0",
    "asl 2": "Apache-2.0",
    "mit license": "MIT",
    "the mit license": "MIT",
    "expat": "MIT",
    "bsd 3-clause": "BSD-3-Clause",
    "bsd-3": "BSD-3-Clause",
    "3-clause bsd": "BSD-3-Clause",
    "new bsd": "BSD-3-Clause",
    "new bsd license": "BSD-3-Clause",
    "modified bsd": "BSD-3-Clause",
    "bsd 2-clause": "BSD-2-Clause",
    "simplified bsd": "BSD-2-Clause",
    "mpl 2.0": "MPL-2.0",
    "mpl-2": "MPL-2.0",
    "psf": "PSF-2.0",
    "psf license": "PSF-2.0",
    "python software foundation license": "PSF-2.0",
    "isc license": "ISC",
    "lgplv3": "LGPL-3.0-only",
    "lgplv2.1": "LGPL-2.1-only",
    "gplv3": "GPL-3.0-only",
    "gplv2": "GPL-2.0-only",
    "unlicense": "Unlicense",
    "public domain": "LicenseRef-Public-Domain",
}

# Trove license classifiers that name exactly one SPDX license.
_CLASSIFIERS = {
    "License :: OSI Approved :: Apache Software License": "Apache-2.0",
    "License :: OSI Approved :: MIT License": "MIT",
    "License :: OSI Approved :: MIT No Attribution License (MIT-0)": "MIT-0",
    "License :: OSI Approved :: BSD License": None,  # the classifier does not say which BSD
    "License :: OSI Approved :: ISC License (ISCL)": "ISC",
    "License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "License :: OSI Approved :: Mozilla Public License 1.1 (MPL 1.1)": "MPL-1.1",
    "License :: OSI Approved :: Python Software Foundation License": "PSF-2.0",
    "License :: OSI Approved :: The Unlicense (Unlicense)": "Unlicense",
    "License :: OSI Approved :: Zope Public License": "ZPL-2.1",
    "License :: OSI Approved :: zlib/libpng License": "Zlib",
    "License :: OSI Approved :: Boost Software License 1.0 (BSL-1.0)": "BSL-1.0",
    "License :: OSI Approved :: Eclipse Public License 2.0 (EPL-2.0)": "EPL-2.0",
    "License :: OSI Approved :: GNU General Public License v2 (GPLv2)": "GPL-2.0-only",
    "License :: OSI Approved :: GNU General Public License v2 or later (GPLv2+)": (
        "GPL-2.0-or-later"
    ),
    "License :: OSI Approved :: GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
    "License :: OSI Approved :: GNU General Public License v3 or later (GPLv3+)": (
        "GPL-3.0-or-later"
    ),
    "License :: OSI Approved :: GNU Lesser General Public License v2 (LGPLv2)": "LGPL-2.0-only",
    "License :: OSI Approved :: GNU Lesser General Public License v2 or later (LGPLv2+)": (
        "LGPL-2.0-or-later"
    ),
    "License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "License :: OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)": (
        "LGPL-3.0-or-later"
    ),
    "License :: OSI Approved :: GNU Affero General Public License v3": "AGPL-3.0-only",
    "License :: OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)": (
        "AGPL-3.0-or-later"
    ),
    "License :: OSI Approved :: Academic Free License (AFL)": "AFL-3.0",
    "License :: OSI Approved :: Artistic License": "Artistic-2.0",
    "License :: OSI Approved :: Historical Permission Notice and Disclaimer (HPND)": "HPND",
    "License :: OSI Approved :: Universal Permissive License (UPL)": "UPL-1.0",
    "License :: CC0 1.0 Universal (CC0 1.0) Public Domain Dedication": "CC0-1.0",
    "License :: Public Domain": "LicenseRef-Public-Domain",
}


@lru_cache(maxsize=1)
def _licensing() -> Any:
    return get_spdx_licensing()


@lru_cache(maxsize=4096)
def to_spdx(text: str | None) -> str | None:
    """The normalised SPDX expression for ``text``, or None when it is not one."""
    if text is None:
        return None
    stripped = text.strip()
    if not stripped or "\n" in stripped or len(stripped) > 200:
        return None
    alias = _ALIASES.get(stripped.lower())
    if alias is not None:
        return alias
    if stripped.startswith("LicenseRef-"):
        return stripped
    try:
        info = _licensing().validate(stripped, strict=True)
    except (ExpressionError, TypeError, ValueError, AttributeError):
        # AttributeError: license-expression 30.x fails inside its own error
        # reporting on some keys (e.g. "BSD, Public Domain"); the text is then
        # simply not an SPDX expression.
        return None
    if info.errors or info.invalid_symbols:
        return None
    normalized = info.normalized_expression
    return str(normalized) if normalized else None


def classifier_to_spdx(classifiers: Iterable[str]) -> str | None:
    """An SPDX expression from trove classifiers: several are combined with OR."""
    ids = sorted({spdx for c in classifiers if (spdx := _CLASSIFIERS.get(c.strip()))})
    if not ids:
        return None
    return " OR ".join(ids)


def from_text(raw: str | None, origin: str) -> License | None:
    """A License from a free-text or SPDX field of any source."""
    if raw is None or not raw.strip():
        return None
    return License(raw=raw.strip(), spdx=to_spdx(raw), origin=origin)


def from_metadata(
    expression: str | None, license_field: str | None, classifiers: Iterable[str] = ()
) -> License | None:
    """The declared license of a distribution, in core-metadata precedence order."""
    if expression and expression.strip():
        return License(
            raw=expression.strip(), spdx=to_spdx(expression), origin="license-expression"
        )
    raw = license_field.strip() if license_field and license_field.strip() else None
    if raw is not None and (spdx := to_spdx(raw)) is not None:
        return License(raw=raw, spdx=spdx, origin="license")
    classifier_list = [c for c in classifiers if c.startswith("License ::")]
    from_classifier = classifier_to_spdx(classifier_list)
    if from_classifier is not None:
        return License(
            raw=raw or "; ".join(classifier_list), spdx=from_classifier, origin="classifier"
        )
    if raw is not None:
        return License(raw=raw, spdx=None, origin="license")
    if classifier_list:
        return License(raw="; ".join(classifier_list), spdx=None, origin="classifier")
    return None
