"""Install-time execution rules: each with a positive sample and a benign counterpart."""

from assay.advisories.severity import Level
from tests.vetting.package_builder import first, rules, vet_sdist, vet_wheel

PLAIN_SETUP = (
    "from setuptools import setup, find_packages\n"
    "with open('README.md') as handle:\n"
    "    long_description = handle.read()\n"
    "setup(name='demo', version='1.0', packages=find_packages())\n"
)


def test_cmdclass_install_override_is_found():
    report = vet_sdist(
        {
            "setup.py": """
                from setuptools import setup
                from setuptools.command.install import install
                class PostInstall(install):
                    def run(self):
                        install.run(self)
                setup(name="demo", cmdclass={"install": PostInstall})
            """
        }
    )
    assert "install-cmdclass" in rules(report)
    finding = first(report, "install-cmdclass")
    assert finding.where == "install"
    assert finding.line == 4
    assert "PostInstall(setuptools.command.install.install)" in finding.explanation


def test_build_ext_override_is_not_an_install_hook():
    report = vet_sdist(
        {
            "setup.py": """
                from setuptools import setup
                from setuptools.command.build_ext import build_ext
                class Build(build_ext):
                    def run(self):
                        build_ext.run(self)
                setup(name="demo", cmdclass={"build_ext": Build})
            """
        }
    )
    assert "install-cmdclass" not in rules(report)
    assert report.label == "none"


def test_plain_setup_py_scores_zero():
    report = vet_sdist({"setup.py": PLAIN_SETUP})
    assert report.score == 0
    assert not report.flagged


def test_setup_py_in_a_wheel_is_not_install_time():
    report = vet_wheel({"demo/setup.py": "import subprocess\nsubprocess.call(['ls'])\n"})
    assert all(f.where != "install" for f in report.findings)


def test_setup_code_reports_unusual_top_level_calls():
    report = vet_sdist({"setup.py": PLAIN_SETUP + "\nimport shutil\nshutil.rmtree('/x')\n"})
    finding = first(report, "install-setup-code")
    assert "shutil.rmtree" in finding.explanation
    assert "install-setup-code" not in rules(vet_sdist({"setup.py": PLAIN_SETUP}))


def test_in_tree_backend_is_install_time_code():
    pyproject = """
        [build-system]
        requires = []
        build-backend = "backend"
        backend-path = ["_build"]
    """
    backend = "import os\nos.system(cmd)\n"
    report = vet_sdist({"pyproject.toml": pyproject, "_build/backend.py": backend})
    assert "install-in-tree-backend" in rules(report)
    process = first(report, "capability-process")
    assert process.where == "install"
    benign = vet_sdist(
        {
            "pyproject.toml": '[build-system]\nrequires = ["hatchling"]\n'
            'build-backend = "hatchling.build"\n',
            "_build/backend.py": backend,
        }
    )
    assert "install-in-tree-backend" not in rules(benign)
    assert first(benign, "capability-process").where != "install"


def test_pth_with_import_line_runs_at_startup():
    report = vet_wheel({"demo.pth": "import os; os.system('id')\n", "demo/__init__.py": ""})
    assert "install-pth-exec" in rules(report, Level.MEDIUM)
    process = first(report, "capability-process")
    assert process.where == "install"


def test_pth_with_path_lines_is_benign():
    report = vet_wheel({"demo.pth": "src/demo\n# a comment\n", "demo/__init__.py": ""})
    assert "install-pth-exec" not in rules(report)
    assert report.score == 0


def test_namespace_nspkg_pth_is_informational():
    line = (
        "import sys, types, os;p = os.path.join(sys._getframe(1).f_locals['sitedir'], 'ns');"
        "m = sys.modules.setdefault('ns', types.ModuleType('ns'))\n"
    )
    report = vet_wheel({"demo-1.0-py3.9-nspkg.pth": line})
    finding = first(report, "install-pth-exec")
    assert finding.severity == Level.NONE


def test_sitecustomize_at_the_site_root_is_high():
    report = vet_wheel({"sitecustomize.py": "x = 1\n"})
    assert "install-startup-module" in rules(report, Level.HIGH)


def test_sitecustomize_inside_a_package_or_tests_is_not_reported():
    report = vet_sdist({"tests/fixtures/env/sitecustomize.py": "x = 1\n", "setup.py": PLAIN_SETUP})
    assert "install-startup-module" not in rules(report)
    assert "install-startup-module" not in rules(vet_wheel({"demo/customize.py": "x = 1\n"}))


def test_console_script_shadowing_pip_is_found():
    entry_points = "[console_scripts]\npip = demo.cli:main\n"
    report = vet_wheel({"demo-1.0.dist-info/entry_points.txt": entry_points})
    assert "install-shadowing-script" in rules(report, Level.MEDIUM)
    benign = "[console_scripts]\ndemo = demo.cli:main\n[demo.plugins]\ngit = demo.git:Plugin\n"
    assert "install-shadowing-script" not in rules(
        vet_wheel({"demo-1.0.dist-info/entry_points.txt": benign})
    )


def test_console_script_in_setup_py_and_pyproject():
    setup = PLAIN_SETUP.replace(
        "packages=find_packages()",
        "entry_points={'console_scripts': ['sudo = demo.cli:main']}",
    )
    assert "install-shadowing-script" in rules(vet_sdist({"setup.py": setup}))
    pyproject = '[project]\nname = "demo"\n[project.scripts]\ngit = "demo.cli:main"\n'
    assert "install-shadowing-script" in rules(vet_sdist({"pyproject.toml": pyproject}))
    fine = '[project]\nname = "demo"\n[project.scripts]\ndemo-git = "demo.cli:main"\n'
    assert "install-shadowing-script" not in rules(vet_sdist({"pyproject.toml": fine}))


def test_modules_setup_py_imports_run_at_install_time():
    setup = (
        "from setuptools import setup\nfrom demo.hooks import after\nafter()\nsetup(name='demo')\n"
    )
    hooks = "import subprocess\n\ndef after():\n    subprocess.Popen(cmd)\n"
    report = vet_sdist({"setup.py": setup, "demo/hooks.py": hooks, "demo/__init__.py": ""})
    assert first(report, "capability-process").where == "install"
    version_only = setup.replace("from demo.hooks import after\nafter()\n", "import demo.hooks\n")
    report = vet_sdist({"setup.py": version_only, "demo/hooks.py": hooks})
    assert first(report, "capability-process").where == "library"
    alone = vet_sdist({"setup.py": PLAIN_SETUP, "demo/hooks.py": hooks})
    assert first(alone, "capability-process").where == "library"


def test_install_command_that_runs_a_process_is_high():
    setup = (
        "import os, subprocess\n"
        "from setuptools import setup\n"
        "from setuptools.command.install import install\n"
        "class Post(install):\n"
        "    def run(self):\n"
        "        install.run(self)\n"
        "        subprocess.call([os.path.join(os.path.dirname(__file__), 'x')])\n"
        "setup(name='demo', cmdclass={'install': Post})\n"
    )
    finding = first(vet_sdist({"setup.py": setup}), "install-cmdclass")
    assert finding.severity == Level.HIGH
    assert "subprocess.call" in finding.explanation
    build_py = (
        setup.replace("install import install", "build_py import build_py")
        .replace("(install)", "(build_py)")
        .replace("install.run", "build_py.run")
        .replace("'install'", "'build_py'")
    )
    finding = first(vet_sdist({"setup.py": build_py}), "install-cmdclass")
    assert finding.severity == Level.LOW


OWN_CODE_SETUP = (
    "from setuptools import setup\n"
    "from setuptools.command.install import install\n"
    "class Post(install):\n"
    "    def run(self):\n"
    "        from demo.hooks import after\n"
    "        after()\n"
    "        install.run(self)\n"
    "setup(name='demo', cmdclass={'install': Post})\n"
)


def test_install_command_that_calls_the_package_own_code():
    quiet = "def after():\n    print('thanks for installing')\n"
    report = vet_sdist({"setup.py": OWN_CODE_SETUP, "demo/hooks.py": quiet})
    finding = first(report, "install-cmdclass")
    assert finding.severity == Level.MEDIUM
    assert "demo.hooks.after" in finding.explanation
    assert not report.flagged


def test_replaced_install_command_with_install_time_process_in_a_small_package():
    hooks = "import os\n\ndef after():\n    os.system(command)\n"
    report = vet_sdist({"setup.py": OWN_CODE_SETUP, "demo/hooks.py": hooks})
    assert report.flagged
    assert "install command is replaced" in report.explanation
    big = {f"demo/m{i}.py": "x = 1\n" for i in range(30)}
    report = vet_sdist({"setup.py": OWN_CODE_SETUP, "demo/hooks.py": hooks, **big})
    assert not report.flagged  # a large project compiling its parts on install


def test_install_override_calling_its_base_class_is_plain():
    setup = OWN_CODE_SETUP.replace(
        "        from demo.hooks import after\n        after()\n",
        "        install.finalize_options(self)\n",
    )
    finding = first(vet_sdist({"setup.py": setup}), "install-cmdclass")
    assert finding.severity == Level.LOW
