"""What the bench needs and installs when it is missing, before it leaves the network (see netns.py).

- Debian packages, with apt-get as scripts/test does: BIND 9 and Unbound (the DNS world), dnsdist (the delay D in
  front of both), tcpdump (counting the queries a client sent).
- checkdmarc, the baseline, in its own virtual environment under the bench cache, from the package registry, at a
  pinned version so that baselines stay comparable between runs.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

# program -> Debian package
DEBIAN_PROGRAMS = {"named": "bind9", "unbound": "unbound", "unbound-control": "unbound", "dnsdist": "dnsdist",
                   "tcpdump": "tcpdump"}

CHECKDMARC_VERSION = "6.0.4"


class MissingDependency(RuntimeError):
    pass


def find_program(name: str) -> str | None:
    """The program on PATH, or in an sbin directory (the DNS lab's lookup: tests/dnslab/netutil.py)."""
    from tests.dnslab.netutil import find_program as lab_find_program

    return lab_find_program(name)


def program(name: str) -> str:
    found = find_program(name)
    if found is None:
        raise MissingDependency(f"{name} is not installed (Debian package {DEBIAN_PROGRAMS.get(name, name)})")
    return found


def ensure_debian_packages(log=print) -> list[str]:
    """Install the Debian packages of the programs that are missing (as root, or through sudo); the ones installed."""
    missing = sorted({pkg for prog, pkg in DEBIAN_PROGRAMS.items() if find_program(prog) is None})
    if not missing:
        return []
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    log(f"bench: installing {' '.join(missing)} from Debian's packages")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], check=True,
                   env=env, stdout=subprocess.DEVNULL)
    still = [prog for prog in DEBIAN_PROGRAMS if find_program(prog) is None]
    if still:
        raise MissingDependency(f"still missing after apt-get install: {', '.join(still)}")
    return missing


@contextmanager
def cache_lock(cache: Path, name: str) -> Iterator[None]:
    """Hold `<cache>/.<name>.lock`: two benches at once (a developer's and the smoke test's) build each cached
    thing once, one after the other."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def checkdmarc_python(cache: Path, log=print) -> Path:
    """The Python of checkdmarc's own venv (`<cache>/checkdmarc-<version>`), made with this interpreter's `venv` and
    pip from the package registry the first time."""

    def make(venv: Path, python: Path) -> None:
        log(f"bench: installing checkdmarc {CHECKDMARC_VERSION} into {venv}")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        result = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                                 f"checkdmarc=={CHECKDMARC_VERSION}"], capture_output=True, text=True)
        if result.returncode != 0:
            raise MissingDependency(f"pip could not install checkdmarc=={CHECKDMARC_VERSION}:\n"
                                    f"{result.stderr[-2000:]}")
        subprocess.run([str(python), "-c", "import checkdmarc"], check=True)

    return _cached_venv(cache, f"checkdmarc-{CHECKDMARC_VERSION}", make)


def measured_python(cache: Path, log=print) -> Path:
    """The Python the figures run stackshift (and `import typer`) with: a venv of this interpreter whose only
    addition is one .pth line per site-packages directory of this interpreter, so it imports the same installed
    packages (typer, dnspython, ...) but runs none of their .pth start-up hooks: an editable install's import
    finder (stackshift itself comes from the tree under test, `python -m stackshift_cli` in it), or a sandbox's
    own. That is what a user's venv with `pip install stackshift-cli` starts like; both the baseline and
    stackshift run with it, so their ratio is not skewed by a fixed cost neither would have there."""
    import hashlib
    import site
    import sysconfig

    dirs = list(dict.fromkeys([*site.getsitepackages(), sysconfig.get_path("purelib"), sysconfig.get_path("platlib")]))

    def make(venv: Path, python: Path) -> None:
        log(f"bench: making {venv} (this interpreter, its site-packages without their .pth hooks)")
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                 check=True, capture_output=True, text=True).stdout.strip()
        Path(purelib, "bench-site-packages.pth").write_text("".join(f"{d}\n" for d in dirs if Path(d).is_dir()))
        subprocess.run([str(python), "-c", "import typer, dns.message, httpx, rich"], check=True)

    key = hashlib.blake2b("\n".join([sys.executable, *dirs]).encode(), digest_size=6).hexdigest()
    return _cached_venv(cache, f"python-{key}", make)


def _cached_venv(cache: Path, name: str, make) -> Path:
    """The Python of the venv `<cache>/<name>`, made by `make(venv, python)` the first time (under a lock: two
    benches at once make it once). A venv left half-made (no `.complete`) is made again."""
    with cache_lock(cache, name):
        venv = cache / name
        python = venv / "bin" / "python"
        marker = venv / ".complete"
        if marker.exists() and python.exists():
            return python
        shutil.rmtree(venv, ignore_errors=True)
        cache.mkdir(parents=True, exist_ok=True)
        make(venv, python)
        marker.write_text(sys.executable + "\n")
        return python


def compile_tree(tree: Path, python: str) -> None:
    """Compile the bytecode of the stackshift under test, as `pip install` does at install time, so that no
    measured run compiles a module from source (the bench's runs may not write bytecode themselves: see
    stores.cli_env)."""
    subprocess.run([python, "-m", "compileall", "-q", str(tree / "stackshift_cli")], check=True,
                   stdout=subprocess.DEVNULL)

