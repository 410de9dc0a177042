from assay.advisories.model import Advisory, Affected, SeverityVector
from assay.advisories.severity import Level, advisory_severity, score_vector


def test_cvss3_and_cvss4_scores():
    v3 = score_vector(SeverityVector("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"))
    assert v3 is not None
    assert (v3.score, v3.level) == (9.8, Level.CRITICAL)
    v4 = score_vector(
        SeverityVector("CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:N/SC:H/SI:H/SA:L")
    )
    assert v4 is not None
    assert v4.level is Level.CRITICAL
    assert score_vector(SeverityVector("CVSS_V3", "garbage")) is None
    assert score_vector(SeverityVector("Ubuntu", "high")) is None


def test_prefers_newest_cvss_version_and_falls_back_to_label():
    both = Advisory(
        id="X",
        modified="m",
        severity=(SeverityVector("CVSS_V3", "CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:L/I:N/A:N"),),
        affected=(
            Affected(
                name="x",
                severity=(
                    SeverityVector(
                        "CVSS_V4",
                        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                    ),
                ),
            ),
        ),
    )
    assert advisory_severity(both).kind == "CVSS_V4"
    labelled = Advisory(id="Y", modified="m", database_severity="MODERATE")
    severity = advisory_severity(labelled)
    assert severity.level is Level.MEDIUM
    assert severity.describe() == "medium (label only, no CVSS vector)"
    assert (
        advisory_severity(Advisory(id="Z", modified="m")).describe() == "unknown (no CVSS vector)"
    )


def test_levels_order_for_thresholds():
    assert Level.CRITICAL > Level.HIGH > Level.MEDIUM > Level.LOW > Level.NONE > Level.UNKNOWN
    assert Level.parse("moderate") is Level.MEDIUM
