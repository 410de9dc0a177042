"""Registry configuration: TOML file, environment, defaults, line-numbered errors."""

from pathlib import Path

import pytest

from assay.registry.config import ConfigError, load_config, with_stage, with_upstreams
from assay.registry.model import IndexConfig

UP = "http://upstream.invalid/simple/"
TWO_INDEXES_BAD_ACTION = """[[index]]
name = 'a'
stage = 's'
[[index]]
name = 'b'
stage = 's'
blocked_action = 'x'
"""


def pip(env):
    return [UP]


def load(tmp_path, text=None, env=None, **kwargs):
    path = None
    if text is not None:
        path = tmp_path / "registry.toml"
        path.write_text(text)
    environ = {"ASSAY_HOME": str(tmp_path / "home"), **(env or {})}
    return load_config(path, environ, pip_indexes=kwargs.pop("pip_indexes", pip), **kwargs)


def test_defaults(tmp_path):
    config = load(tmp_path)
    assert (config.host, config.port, config.anonymous_read) == ("127.0.0.1", 8000, True)
    assert config.state_dir == tmp_path / "home" / "registry"
    assert config.upstream_urls == (UP,)
    assert config.indexes == (IndexConfig("default", "production", "", "hide"),)


def test_full_file(tmp_path):
    config = load(
        tmp_path,
        f"""
[server]
host = "0.0.0.0"
port = 9000
state_dir = "{tmp_path / "state"}"
anonymous_read = false

[upstream]
urls = ["http://a.invalid/simple/", "http://b.invalid/simple/"]
timeout = 5
page_ttl = 60.5

[governance]
blocked_action = "yank"

[[index]]
name = "sandbox"
stage = "sandbox"
blocked_action = "hide"

[[index]]
name = "prod"
prefix = "/prod/"
stage = "production"
""",
    )
    assert (config.host, config.port, config.anonymous_read) == ("0.0.0.0", 9000, False)
    assert config.state_dir == tmp_path / "state"
    assert config.upstream_urls == ("http://a.invalid/simple/", "http://b.invalid/simple/")
    assert (config.upstream_timeout, config.page_ttl) == (5.0, 60.5)
    assert config.indexes == (
        IndexConfig("sandbox", "sandbox", "/sandbox", "hide"),
        IndexConfig("prod", "production", "/prod", "yank"),
    )


def test_environment_overrides_the_file(tmp_path):
    config = load(
        tmp_path,
        '[server]\nport = 9000\n[upstream]\nurls = ["http://a.invalid/simple/"]\n',
        {
            "ASSAY_REGISTRY_PORT": "9100",
            "ASSAY_REGISTRY_STAGE": "staging",
            "ASSAY_REGISTRY_BLOCKED_ACTION": "yank",
            "ASSAY_REGISTRY_ANONYMOUS_READ": "no",
            "ASSAY_INDEX_URL": "http://env.invalid/simple/",
        },
        pip_indexes=lambda env: env["ASSAY_INDEX_URL"].split(),
    )
    assert config.port == 9100
    assert config.indexes == (IndexConfig("default", "staging", "", "yank"),)
    assert config.anonymous_read is False
    assert config.upstream_urls == ("http://env.invalid/simple/",)


def test_command_line_upstreams_skip_pip(tmp_path):
    def no_pip(env):
        raise AssertionError("pip's configuration must not be read")

    config = load(tmp_path, upstreams=("http://cli.invalid/simple/",), pip_indexes=no_pip)
    assert config.upstream_urls == ("http://cli.invalid/simple/",)
    assert with_upstreams(config, ()).upstream_urls == config.upstream_urls
    assert with_stage(config, "sandbox").indexes[0].stage == "sandbox"


def test_config_file_from_environment(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text("[server]\nport = 1234\n")
    config = load_config(None, {"ASSAY_REGISTRY_CONFIG": str(path)}, pip_indexes=pip)
    assert config.port == 1234
    assert config.source == str(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[server]\nport = 'x'\n", r"registry\.toml:2: server\.port must be an integer"),
        ("[server]\n\nport = 70000\n", r"registry\.toml:3: server\.port must be 0-65535"),
        ("[server]\nhots = '1'\n", r"registry\.toml:2: unknown key server\.hots"),
        ("[serve]\nport = 1\n", r"registry\.toml:.*unknown table or key 'serve'"),
        ("[upstream]\ntimeout = -1\n", r"registry\.toml:2: upstream\.timeout must be a positive"),
        ("[upstream]\nurls = []\n", r"registry\.toml:2: upstream\.urls must be a non-empty"),
        ("[upstream]\nurls = ['ftp://x']\n", r"registry\.toml:2: .* not an http\(s\) URL"),
        ("[governance]\nblocked_action = 'drop'\n", r"registry\.toml:2: .*'hide' or 'yank'"),
        (TWO_INDEXES_BAD_ACTION, r"registry\.toml:7: index\.blocked_action"),
        ("[[index]]\nname = 'a'\n", r"registry\.toml:2: index 'a' needs a stage"),
        (
            "[[index]]\nname = 'a'\nstage = 's'\nprefix = '/files'\n",
            r"registry\.toml:4: index\.prefix '/files'",
        ),
        (
            "[[index]]\nname = 'a'\nstage = 's'\n[[index]]\nname = 'a'\nstage = 't'\n",
            r"registry\.toml:5: index 'a' repeats",
        ),
        ("[server\n", r"registry\.toml: invalid TOML: .*line 1"),
        ("[server]\nanonymous_read = 1\n", r"registry\.toml:2: server\.anonymous_read must be"),
    ],
)
def test_errors_name_the_file_and_line(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message) as caught:
        load(tmp_path, text)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ASSAY_REGISTRY_PORT": "eighty"}, "ASSAY_REGISTRY_PORT='eighty': expected a number"),
        ({"ASSAY_REGISTRY_PORT": "99999"}, "out of range"),
        ({"ASSAY_REGISTRY_BLOCKED_ACTION": "drop"}, "expected hide or yank"),
        ({"ASSAY_REGISTRY_ANONYMOUS_READ": "maybe"}, "expected true or false"),
        ({"ASSAY_REGISTRY_PAGE_TTL": "0"}, "out of range"),
    ],
)
def test_bad_environment_values(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, env=env)


def test_unreadable_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml", {}, pip_indexes=pip)
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(Path(binary), {}, pip_indexes=pip)
