"""BACKENDS, the registry of backends, and the Backend interface they are checked against."""

from __future__ import annotations

import subprocess
import sys

import pytest

from stackshift_cli.backends.base import BACKENDS, Backend, BackendRegistry, Registration
from stackshift_cli.config import KEYS, ConfigFile, Settings


def test_the_backends_are_local_then_api():
    assert list(BACKENDS) == ["local", "api"]


@pytest.mark.parametrize("name, where, keeps_private_keys, judges_remotely", [
    ("local", "the local store", True, False),
    ("api", "your StackShift account", False, True),
])
def test_each_backend_class_says_where_its_domains_live_and_what_it_can_do(name, where, keeps_private_keys,
                                                                           judges_remotely):
    cls = BACKENDS[name]
    assert issubclass(cls, Backend) and cls.name == name
    assert (cls.where, cls.keeps_private_keys, cls.judges_remotely) == (where, keeps_private_keys, judges_remotely)


def test_every_backend_name_is_a_value_of_the_backend_option_and_config_key():
    from stackshift_cli.cli.state import BackendName

    assert [member.value for member in BackendName] == list(BACKENDS)
    for name in BACKENDS:
        assert KEYS["backend"].parse(name) == name


def test_a_backend_that_leaves_a_method_out_cannot_be_made():
    class Partial(Backend):
        name = "partial"
        where = "nowhere"

        @classmethod
        def open(cls, settings, ui):
            return cls()

    with pytest.raises(TypeError, match="abstract"):
        Partial.open(None, None)


def test_a_backend_that_does_not_say_where_its_domains_live_cannot_be_defined():
    with pytest.raises(TypeError, match="does not say its where"):
        class Nameless(Backend):  # noqa: F841
            name = "nameless"


def test_the_registry_refuses_a_class_that_is_not_the_backend_it_names():
    registry = BackendRegistry({"local": Registration("stackshift_cli.backends.api:ApiBackend", lambda settings: [])})
    with pytest.raises(TypeError, match="is not the Backend named 'local'"):
        registry["local"]



def fresh_python(code: str) -> str:
    """What `code` prints in a new interpreter (which modules it imports is the point of these tests)."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout

def test_backend_classes_are_imported_only_when_asked_for():
    code = ("import sys\nfrom stackshift_cli.backends.base import BACKENDS\n"
            "names = list(BACKENDS)\nbefore = [m for m in ('stackshift_cli.backends.local', "
            "'stackshift_cli.backends.api') if m in sys.modules]\n"
            "BACKENDS['local']\n"
            "print(before, 'stackshift_cli.backends.api' in sys.modules, 'httpx' in sys.modules)")
    assert fresh_python(code).split() == ["[]", "False", "False"]


@pytest.fixture
def settings(config_dir) -> Settings:
    return Settings("default", ConfigFile(config_dir / "config.toml"))


@pytest.mark.parametrize("choice, env, stored, key, chosen", [
    (None, None, None, None, "local"),  # nothing set: the backend that needs no credential
    (None, None, None, "sk_test_0123456789", "api"),  # a key makes the API the default
    (None, None, "local", "sk_test_0123456789", "local"),  # the profile's choice beats the key
    (None, "api", "local", None, "api"),  # STACKSHIFT_BACKEND beats the profile
    ("local", "api", None, "sk_test_0123456789", "local"),  # --backend beats everything
])
def test_which_backend_a_run_uses(settings, monkeypatch, choice, env, stored, key, chosen):
    if env:
        monkeypatch.setenv("STACKSHIFT_BACKEND", env)
    if stored:
        settings.file.set("default", "backend", stored)
    if key:
        settings.file.set("default", "api.key", key)
    assert BACKENDS.choose(settings, choice) == chosen


def test_the_credential_of_each_backend():
    assert (BACKENDS.credential("local"), BACKENDS.credential("api")) == (None, "api.key")


def test_tab_reads_each_backends_names_without_importing_the_backend(local_cli, data_dir):
    """The local store's rows from its file, the API's from namecache's file; neither backend module is loaded."""
    created = local_cli("domains", "create", "tab.example", "--json").json()
    code = ("import sys\nfrom stackshift_cli import namecache\nfrom stackshift_cli.backends.base import BACKENDS\n"
            "from stackshift_cli.config import Settings\n"
            "namecache.remember_api_domains('default', 'https://api.stackshift.dev', [])\n"
            "settings = Settings('default')\n"
            "print(list(BACKENDS.completion_rows('local', settings)), list(BACKENDS.completion_rows('api', settings)),"
            " [m for m in ('stackshift_cli.backends.api', 'stackshift_cli.http', 'stackshift_cli.domain',"
            " 'stackshift_cli.keys') if m in sys.modules])")
    assert fresh_python(code).strip() == f"[('tab.example', '{created['id']}', 'pending')] [] []"
