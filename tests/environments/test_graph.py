from assay.environments.graph import marker_environment, requirement_edges


def test_marker_environment_uses_target_python():
    env = marker_environment("3.9.18")
    assert env["python_version"] == "3.9"
    assert env["python_full_version"] == "3.9.18"
    assert marker_environment("3.12")["python_full_version"] == "3.12.0"


def test_edges_follow_markers_and_extras():
    requires = [
        "charset_normalizer<4,>=2",
        "idna>=2.5",
        "tomli; python_version < '3.11'",
        "PySocks!=1.5.7,>=1.5.6; extra == 'socks'",
        "not a requirement !!",
    ]
    env = marker_environment("3.11.7")
    assert requirement_edges(requires, env) == ("charset-normalizer", "idna")
    assert requirement_edges(requires, env, extras=["socks"]) == (
        "charset-normalizer",
        "idna",
        "pysocks",
    )
    assert "tomli" in requirement_edges(requires, marker_environment("3.10.1"))
