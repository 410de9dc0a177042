"""The commented starter policy that ``assay policy init`` writes.

A test loads it with :func:`assay.policy.loading.parse_policy`, so it always
stays a valid policy.
"""

from __future__ import annotations

STARTER_POLICY = """\
# assay policy: one file, applied the same way by `assay gate`, `assay promote`
# and the registry.  Reference: docs/policy.md.  Check it with `assay policy check`.
#
# Every rule gives an action per stage: "block", "warn" or "off".  Write one
# action for every stage (action = "block") or a table with a `default`:
#   action = { sandbox = "off", staging = "warn", default = "block" }
# A rule that is not in this file is off everywhere.

[policy]
# Stages in promotion order.  Rename or add your own (lower case, a-z 0-9 _ -).
stages = ["sandbox", "staging", "production"]
# When a fact a rule needs could not be gathered (offline, not cached): "pass",
# "warn" or "block".  Never stricter than the rule's action at that stage.
# Each rule can override it with its own `unavailable = ...`.
unavailable = "warn"

[rules.vulnerabilities]
action = { sandbox = "warn", default = "block" }
severity = "high"          # none, low, medium, high, critical: the lowest label that counts
# score = 7.0              # or/and a CVSS base score threshold (either one counts)
only_with_fix = false      # true: a vulnerability with no known fix is at most a warning
unknown_severity = "block" # a vulnerability with no severity and no score: pass, warn, block
ids = []                   # ids (or aliases) that always count, e.g. ["CVE-2024-3651"]
unavailable = "block"      # no advisory database: do not promote blind

[rules.vetting]
# The risk score (0-10) from `assay vet`, when a vetting result is cached.
action = { sandbox = "warn", default = "block" }
threshold = 7.0            # scores at or above this count

[rules.licenses]
action = { sandbox = "off", staging = "warn", production = "block" }
# SPDX ids (deprecated ids such as GPL-2.0 mean GPL-2.0-only; LicenseRef-* allowed).
# OR passes if any branch passes; AND needs every term; "A WITH E" is looked up
# as written, otherwise as A.
allow = [
  "MIT", "MIT-0", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0", "ISC", "PSF-2.0",
  "Python-2.0", "Zlib", "Unlicense", "CC0-1.0", "BSL-1.0", "HPND", "0BSD",
]
review = ["MPL-2.0", "LGPL-2.1-only", "LGPL-2.1-or-later", "LGPL-3.0-only", "LGPL-3.0-or-later"]
deny = ["GPL-3.0-only", "GPL-3.0-or-later", "AGPL-3.0-only", "AGPL-3.0-or-later", "SSPL-1.0"]
unlisted = "warn"          # an SPDX id on no list: pass, warn, block
unknown = "warn"           # no license, or not an SPDX expression: pass, warn, block

[rules.cooldown]
# Hold releases younger than `days` (age >= days passes, to the second).
action = { sandbox = "off", staging = "warn", production = "block" }
days = 7
overrides = {}             # per package, e.g. { "my-own-lib" = 0, "urllib3" = 14 }

[rules.denylist]
action = "block"
packages = []              # names with optional specifiers, e.g. ["evil-pkg", "urllib3<1.26"]

# [rules.allowlist]        # allow-only mode: anything not listed counts
# action = { sandbox = "off", default = "block" }
# packages = ["numpy>=1.26", "requests"]

[rules.pins]
action = { sandbox = "off", staging = "warn", production = "block" }

[rules.hashes]
action = { sandbox = "off", staging = "off", production = "warn" }

[rules.yanked]
action = { sandbox = "warn", default = "block" }

[rules.project_status]
action = { sandbox = "warn", default = "block" }
# PEP 792 status -> the most it counts for (the stage's action is the other bound)
statuses = { quarantined = "block", archived = "warn", deprecated = "warn" }

[rules.squatting]
action = { sandbox = "warn", default = "block" }

[rules.staleness]
action = { sandbox = "off", staging = "warn", production = "warn" }
years = 3                  # no release in more than this many years (365-day years)

# Waivers: an approved exception with an expiry date (valid through that day,
# UTC).  Scope by package (+ versions), vulnerability id (any alias matches)
# and/or rule.  An expired waiver stops applying and is reported as expired.
# [[waivers]]
# package = "urllib3"
# versions = "<2"
# vulnerability = "CVE-2023-43804"
# rule = "vulnerabilities"
# justification = "cookies are never forwarded across origins in our services"
# approver = "security@example.org"
# expires = 2026-03-31
"""
