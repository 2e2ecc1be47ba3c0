"""The benchmark suite of issue 11: every figure of its table, each with its baseline measured in the same run.

    python bench/run.py                      # the full run (tens of minutes with today's engine)
    python bench/run.py --quick              # a small version, under a minute: 100 domains, a 1,000-row list
    python bench/run.py --only verify single # some figures: startup, create, list, verify, single

It installs what it needs when missing (BIND, Unbound, dnsdist, tcpdump from Debian's packages; checkdmarc in its own
venv from the package registry), then moves into its own network namespace (only a loopback interface: nothing it
starts can send a packet anywhere else), starts its DNS world there (bench/world.py), builds or reuses its cached
stores (bench/stores.py), and runs the real CLI as child processes. It needs root.

Exit status: 0 when every verdict check passed (goals met or not: this is a benchmark, not a test), 1 when a verdict
was not the expected one, 2 when the bench itself could not run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import deps, domains, figures, netns  # noqa: E402
from bench.procs import RunTimeout  # noqa: E402
from bench.report import Report  # noqa: E402
from bench.world import WorldError  # noqa: E402

FIGURES = ("startup", "create", "list", "verify", "single")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="a small version (100 domains, a 1,000-row list, one repeat): under a minute")
    parser.add_argument("--only", nargs="+", choices=FIGURES, metavar="FIGURE",
                        help=f"measure only these figures ({', '.join(FIGURES)})")
    parser.add_argument("--repeats", type=int, help="repeats of each figure (default 3; 1 with --quick)")
    parser.add_argument("--budget", type=float, default=180.0,
                        help="seconds after which a figure is not repeated further (default 180)")
    parser.add_argument("--verify-sizes", type=_sizes, help="bulk verify sizes (default 100,1000,10000)")
    parser.add_argument("--list-sizes", type=_sizes, help="list sizes (default 1000,10000,100000)")
    parser.add_argument("--delays", type=_sizes, help="D in ms for bulk verify (default 0,20)")
    parser.add_argument("--single-delay", type=int, default=200, help="D in ms for the single verify (default 200)")
    parser.add_argument("--no-checkdmarc", action="store_true", help="skip the checkdmarc baseline")
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
                        / "stackshift-bench", help="where stores and the checkdmarc venv are kept "
                        "(default ~/.cache/stackshift-bench)")
    parser.add_argument("--tree", type=Path, default=ROOT,
                        help="the stackshift source tree to measure (default: this checkout)")
    args = parser.parse_args(argv)
    quick = args.quick
    args.figures = [f for f in FIGURES if not args.only or f in args.only]
    args.repeats = args.repeats or (1 if quick else 3)
    args.verify_sizes = args.verify_sizes or ([100] if quick else [100, 1000, 10000])
    args.list_sizes = args.list_sizes or ([1000] if quick else [1000, 10000, 100000])
    args.delays = args.delays if args.delays is not None else [0, 20]
    args.startup_repeats = 5 if quick else max(20, args.repeats)
    args.create_repeats = 3 if quick else max(10, args.repeats)
    args.tree = args.tree.resolve()
    return args


def _sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


def checkdmarc_sample(args: argparse.Namespace, delay: float) -> int:
    """How many domains checkdmarc checks at D (it is sequential: at D > 0 a full run of 1,000 would take minutes)."""
    largest = max(args.verify_sizes)
    if args.quick:
        return min(largest, 100 if delay == 0 else 5)
    return min(largest, 1000 if delay == 0 else 100)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(args.tree))  # the stackshift_cli that builds the stores and zones is the one measured
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also when started in the background (SIG_IGN)
    started = time.perf_counter()
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    deps.ensure_debian_packages(log)
    checkdmarc = None
    if not args.no_checkdmarc and ({"verify", "single"} & set(args.figures)):
        checkdmarc = deps.checkdmarc_python(args.cache, log)
    python = args.python = str(deps.measured_python(args.cache, log))
    deps.compile_tree(args.tree, python)
    with deps.cache_lock(args.cache, "keys"):
        keys = domains.keys(args.cache)
    netns.enter()
    workdir = Path(tempfile.mkdtemp(prefix=f"run-{os.getpid()}-", dir=_runs_dir(args.cache)))
    report = Report()
    bench = figures.Bench(args.tree, args.cache, workdir, keys, report, repeats=args.repeats, budget=args.budget,
                          quick=args.quick, checkdmarc=checkdmarc, python=python)
    try:
        _header(report, args, checkdmarc)
        run_figures(bench, args)
        report.summary()
        report.print(f"\nbench finished in {time.perf_counter() - started:.0f} s; machine load (1 min) at the end: "
                     f"{os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if report.all_checks_passed else 1


def run_figures(bench: figures.Bench, args: argparse.Namespace) -> None:
    """Every figure asked for, in an order that needs each DNS world once: start-up, create and list (no DNS), then
    bulk verify in a world per D, the single verify in the last world with D > 0 (its D raised), growth last."""
    from bench.world import World

    report = bench.report
    if "startup" in args.figures:
        with _timed(bench, "start-up"):
            figures.startup(bench, args.startup_repeats)
    if "create" in args.figures:
        with _timed(bench, "create"):
            figures.create(bench, args.create_repeats)
    list_results = {}
    if "list" in args.figures:
        with _timed(bench, "list"):
            list_results = figures.listing(bench, args.list_sizes)
    verify_results: dict[float, dict] = {}
    single_done = "single" not in args.figures
    count = max(args.verify_sizes) if "verify" in args.figures else 100
    delays = args.delays if "verify" in args.figures else []
    for delay in delays:
        bench.log(f"starting the DNS world: {count:,} zones, D = {delay} ms")
        with World.start(bench.workdir / f"world-d{delay}", count=count, delay_ms=delay, keys=bench.keys) as world:
            bench.log(world.describe())
            with _timed(bench, f"bulk verify at D = {delay} ms"):
                verify_results[delay] = figures.bulk_verify(bench, world, args.verify_sizes,
                                                            checkdmarc_sample(args, delay))
            if not single_done and delay > 0:
                with _timed(bench, "single verify"):
                    world.set_delay(args.single_delay)
                    figures.single_verify(bench, world, args.repeats)
                single_done = True
    if not single_done:
        with World.start(bench.workdir / "world-single", count=100, delay_ms=args.single_delay,
                         keys=bench.keys) as world:
            bench.log(world.describe())
            with _timed(bench, "single verify"):
                figures.single_verify(bench, world, args.repeats)
    for delay, results in verify_results.items():
        report.growth_table(f"bulk verify at D = {delay} ms", "domain", sorted(results),
                            lambda n, r=results: r[n].wall.median / n if r[n].wall else None,
                            lambda n, r=results: r[n].rss.median if r[n].rss else None)
    for mode in figures.LIST_MODES:
        report.growth_table(f"domains list {mode}", "row", sorted(list_results),
                            lambda n, m=mode: list_results[n].wall[m].median / n if list_results[n].wall[m] else None,
                            lambda n, m=mode: list_results[n].rss[m].median if list_results[n].rss[m] else None)


@contextmanager
def _timed(bench: figures.Bench, what: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    bench.log(f"{what} took {time.perf_counter() - started:.1f} s")


def _header(report: Report, args: argparse.Namespace, checkdmarc: Path | None) -> None:
    import platform

    from stackshift_cli import __version__

    report.print(f"stackshift bench ({'--quick' if args.quick else 'full run'}): stackshift {__version__} from "
                 f"{args.tree}, Python {platform.python_version()}, {os.cpu_count()} cores")
    report.print(f"figures: {', '.join(args.figures)}; repeats {args.repeats} (budget {args.budget:.0f} s a figure); "
                 f"bulk verify sizes {', '.join(f'{n:,}' for n in args.verify_sizes)} at D = "
                 f"{', '.join(str(d) for d in args.delays)} ms; list sizes "
                 f"{', '.join(f'{n:,}' for n in args.list_sizes)}")
    report.print(f"baselines: checkdmarc {deps.CHECKDMARC_VERSION if checkdmarc else '(skipped)'}, "
                 "`python -c \"import typer\"`; network namespace with interfaces: " + ", ".join(netns.interfaces()))
    report.print(f"stackshift (`python -m stackshift_cli` in the tree) and `import typer` run with {args.python}: this "
                 "interpreter's packages, without their .pth start-up hooks (see deps.measured_python)")
    load = os.getloadavg()[0]
    report.print(f"machine load (1 min) at the start: {load:.2f}"
                 + ("  !! other processes are busy: figures will be noisy and slower" if load > 1.0 else ""))


def _runs_dir(cache: Path) -> Path:
    """`<cache>/runs`, where each run keeps its temporary files (on the stores' file system, for hard links);
    directories left by a bench that was killed are removed."""
    from tests.dnslab.netutil import process_alive

    runs = cache / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    for entry in runs.iterdir():
        parts = entry.name.split("-")
        if len(parts) >= 2 and parts[1].isdigit() and not process_alive(int(parts[1])):
            shutil.rmtree(entry, ignore_errors=True)
    return runs


def _terminate(signum, frame) -> None:
    """SIGTERM stops the bench as Ctrl-C does: every server stopped, every temporary directory removed."""
    raise KeyboardInterrupt


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("bench: interrupted; servers stopped and temporary files removed", file=sys.stderr)
        sys.exit(130)
    except (deps.MissingDependency, netns.NamespaceUnavailable, WorldError, RunTimeout) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        sys.exit(2)
