"""The figures of issue 11, each measured with the real `stackshift` console entry point as a child process
(`python -m stackshift_cli`, in the source tree under test) and, where the issue names one, its baseline in the
same run: checkdmarc for verify, `python -c "import typer"` for start-up.

Every figure is repeated (`Bench.repeats`, 3 by default) and shown as median [min–max]; a figure whose runs have
taken `Bench.budget` seconds in all is not repeated further, and says n=1 (or n=2).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from bench import domains, procs, stores
from bench.capture import Capture, Queries
from bench.report import Report, Samples
from bench.world import RESOLVER_PROXY_ADDR, UNBOUND_ADDR, World

# The goals of issue 11.
RATE_GOAL = 300.0  # correct domains per second, at D = 0 and D = 20 ms
CHECKDMARC_FACTOR_GOAL = 5.0  # times checkdmarc's rate, at D = 0
RATE_GOAL_FROM = 1_000  # the two rate goals are for runs of this many domains and more (the figures)
CPU_GOAL_MS = 6.0  # CPU per domain
VERIFY_RSS_GOAL_MB = 200.0  # peak memory of a bulk run ("100,000 domains ... under 200 MB")
LIST_SIZE_GOAL = 100_000
LIST_TIME_GOAL, LIST_RSS_GOAL, TERMINAL_TIME_GOAL = 2.0, 100.0, 3.0
STARTUP_GOALS = {"--version": 0.5, "--help": 1.5, "domains list --json (empty store)": 1.2,
                 "TAB completion": 0.5}
ROUNDS_GOAL, FIRST_PACKET_GOAL_MS = 2, 150.0
CREATE_GOAL_MS = 200.0


@dataclass
class Bench:
    """What every figure needs: where stackshift is, where to work, how often to repeat, where to report."""

    tree: Path  # the stackshift source tree measured (its stackshift_cli is the one run)
    cache: Path
    workdir: Path  # this run's own directory (removed at exit)
    keys: domains.Keys
    report: Report
    repeats: int = 3
    budget: float = 180.0
    quick: bool = False
    checkdmarc: Path | None = None  # the Python of checkdmarc's venv
    python: str = sys.executable  # the Python stackshift and the `import typer` baseline run with (deps.measured_python)
    _counter: int = 0

    def stackshift(self, *args: str) -> list[str]:
        return [self.python, "-m", "stackshift_cli", *args]

    def log(self, text: str) -> None:
        print(f"bench: {text}", file=sys.stderr, flush=True)

    def tmp(self, name: str) -> Path:
        """A new directory name under this run's workdir (not created)."""
        self._counter += 1
        return self.workdir / f"{name}-{self._counter}"

    def run(self, argv: list[str], env: dict[str, str], timeout: float = 900, *, pty: bool = False,
            keep_stdout: bool = True) -> procs.Run:
        if pty:
            return procs.run_on_pty(argv, env={**env, "PAGER": "cat"}, timeout=timeout, cwd=self.tree)
        return procs.run(argv, env=env, timeout=timeout, cwd=self.tree, keep_stdout=keep_stdout)

    def repeat(self, what: str, once: Callable[[int], None], repeats: int | None = None) -> int:
        """Call `once(i)` `repeats` times (default self.repeats), at least once, stopping early when the runs have
        taken self.budget seconds in all; how many ran."""
        wanted = repeats or self.repeats
        started = time.perf_counter()
        done = 0
        while done < wanted:
            if wanted > 1:
                self.log(f"{what}: run {done + 1} of {wanted}")
            once(done)
            done += 1
            if time.perf_counter() - started > self.budget and done < wanted:
                self.log(f"{what}: {time.perf_counter() - started:.0f} s spent, over the {self.budget:.0f} s "
                         "budget: no more repeats")
                break
        return done


def _env(bench: Bench, data_dir: Path, world: World | None = None) -> dict[str, str]:
    env = stores.cli_env(data_dir, bench.workdir / "config")
    if world is not None:
        env.update(world.env())
    return env


# ---------------------------------------------------------------- start-up


def startup(bench: Bench, repeats: int) -> None:
    """Start-up: `--version`, `--help`, `domains list --json` on an empty store and TAB completion (`__complete
    domains ""`, what the completion scripts run), against `python -c "import typer"` in the same interpreter.
    The commands are run interleaved, `repeats` times each after one warm-up, and compared by their medians."""
    report = bench.report
    report.section(f"Start-up (median of {repeats} runs each, interleaved; baseline `python -c \"import typer\"`)")
    env = _env(bench, bench.tmp("empty-store"))
    commands = {
        "import typer": [bench.python, "-c", "import typer"],
        "--version": bench.stackshift("--version"),
        "--help": bench.stackshift("--help"),
        "domains list --json (empty store)": bench.stackshift("domains", "list", "--json"),
        "TAB completion": bench.stackshift("__complete", "domains", ""),
    }
    times = {name: Samples() for name in commands}
    outputs: dict[str, procs.Run] = {}
    for round_ in range(repeats + 1):
        for name, argv in commands.items():
            run = bench.run(argv, env, timeout=60)
            outputs.setdefault(name, run)
            if run.returncode != 0:
                report.check(f"start-up: {name}", False, run.describe())
            if round_:  # the first round warms the page cache and the bytecode caches
                times[name].add(run.wall * 1000)
    report.check("start-up: --version prints the version", b"stackshift" in outputs["--version"].stdout,
                 outputs["--version"].stdout.decode(errors="replace").strip()[:60])
    report.check("start-up: list --json on an empty store prints []",
                 outputs["domains list --json (empty store)"].stdout.strip() == b"[]",
                 outputs["domains list --json (empty store)"].stdout.decode(errors="replace").strip()[:60])
    typer = times["import typer"].median
    report.line("python -c 'import typer'", f"{times['import typer'].show(1)} ms  (the baseline)", width=34)
    for name, goal in STARTUP_GOALS.items():
        ratio = times[name].median / typer
        verdict = report.goal(f"start-up {name}", f"≤ {goal}× import typer", f"{ratio:.2f}×", ratio <= goal)
        report.line(name, f"{times[name].show(1)} ms  = {ratio:.2f}× import typer   [{verdict}]", width=34)


# ---------------------------------------------------------------- create


def create(bench: Bench, repeats: int) -> None:
    """One `domains create` on an empty store (a new data directory each time): its median time. Then the same
    command under `-X importtime`, its stderr read as it is written: the line saying the RSA module has been
    imported comes right before the key is generated, so its arrival time splits the run into what comes before
    the keygen (start-up, imports, the Public Suffix List, the store) and the keygen with what follows it."""
    report = bench.report
    report.section(f"One `domains create` on an empty store (median of {repeats})")
    wall, rss = Samples(), Samples()
    name = "create-bench.example"

    def once(i: int) -> None:
        data = bench.tmp("create")
        run = bench.run(bench.stackshift("domains", "create", name, "--json"), _env(bench, data), timeout=60)
        ok = run.returncode == 0 and json.loads(run.stdout or b"{}").get("name") == name
        if not ok or i == 0:
            report.check("create: the domain is created", ok, "exit 0, the domain in its JSON" if ok else
                         run.describe())
        wall.add(run.wall * 1000)
        rss.add(run.rss_mb)
        shutil.rmtree(data, ignore_errors=True)

    bench.repeat("create", once, repeats)
    verdict = report.goal("one domains create", f"≤ {CREATE_GOAL_MS:.0f} ms", f"{wall.median:.0f} ms",
                          wall.median <= CREATE_GOAL_MS)
    report.line("create", f"{wall.show(0)} ms, peak RSS {rss.show(0)} MB   [{verdict}]")
    before, after = Samples(), Samples()
    for _ in range(max(1, min(3, repeats))):
        split = _create_split(bench, name)
        if split is not None:
            before.add(split[0] * 1000)
            after.add(split[1] * 1000)
    if before:
        report.line("before the keygen", f"{before.show(0)} ms  (-X importtime: spawn → RSA module imported)")
        report.line("keygen and the rest", f"{after.show(0)} ms  (RSA-2048 key, records, store write, exit; "
                    "-X importtime slows the first part a little)")
    else:
        report.line("before the keygen", "not measurable: the RSA module was not imported during create")


def _create_split(bench: Bench, name: str) -> tuple[float, float] | None:
    import os
    import selectors
    import subprocess

    data = bench.tmp("create-split")
    env = _env(bench, data)
    argv = [bench.python, "-X", "importtime", "-m", "stackshift_cli", "domains", "create", name, "--json"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=bench.tree, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    marker_at = None
    buffer = b""
    assert proc.stderr is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stderr, selectors.EVENT_READ)
        while True:
            selector.select(30)
            chunk = os.read(proc.stderr.fileno(), 1 << 16)
            if not chunk:
                break
            buffer += chunk
            if marker_at is None and b"cryptography.hazmat.primitives.asymmetric.rsa\n" in buffer:
                marker_at = time.perf_counter() - t0
    proc.wait()
    total = time.perf_counter() - t0
    shutil.rmtree(data, ignore_errors=True)
    if proc.returncode != 0 or marker_at is None:
        return None
    return marker_at, total - marker_at


# ---------------------------------------------------------------- domains list


@dataclass
class ListResult:
    n: int
    wall: dict[str, Samples] = field(default_factory=dict)
    rss: dict[str, Samples] = field(default_factory=dict)


LIST_MODES = {"--json": ("domains", "list", "--json"), "piped": ("domains", "list"), "terminal": ("domains", "list")}


def listing(bench: Bench, sizes: list[int]) -> dict[int, ListResult]:
    """`domains list --json` and `domains list` into a pipe, and `domains list` on a terminal (a pty of 120x50, as
    tests/helpers.py run_on_pty; PAGER=cat, should stackshift ever page), on stores of each size: time and peak RSS.
    Every output is checked to list every domain."""
    report = bench.report
    report.section("domains list (time and peak RSS of the process)")
    results: dict[int, ListResult] = {}
    for n in sizes:
        data = stores.copy(stores.cached(n, bench.cache, bench.keys, bench.tree, log=bench.log), bench.tmp(f"list-{n}"),
                           fresh=False)
        env = _env(bench, data)
        result = results[n] = ListResult(n)
        for mode, args in LIST_MODES.items():
            wall, rss = result.wall.setdefault(mode, Samples()), result.rss.setdefault(mode, Samples())
            first: dict[str, int] = {}

            def once(i: int, mode=mode, args=args, wall=wall, rss=rss, first=first) -> None:
                run = bench.run(bench.stackshift(*args), env, timeout=1800, pty=mode == "terminal")
                wall.add(run.wall)
                rss.add(run.rss_mb)
                if i == 0:
                    ok, detail = _check_list(mode, run, n)
                    report.check(f"list {mode}, {n:,} domains: every domain listed", ok, detail)
                    first["size"] = len(run.stdout)
                elif mode != "terminal" and (run.returncode != 0 or len(run.stdout) != first["size"]):
                    report.check(f"list {mode}, {n:,} domains: same output every run", False, run.describe())

            bench.repeat(f"list {mode} {n:,}", once)
            goals = []
            if n == LIST_SIZE_GOAL:
                limit = TERMINAL_TIME_GOAL if mode == "terminal" else LIST_TIME_GOAL
                goals.append(report.goal(f"list {mode} {n:,}", f"≤ {limit:g} s", f"{wall.median:.2f} s",
                                         wall.median <= limit))
                if mode != "terminal":
                    goals.append(report.goal(f"list {mode} {n:,}", f"≤ {LIST_RSS_GOAL:.0f} MB",
                                             f"{rss.median:.0f} MB", rss.median <= LIST_RSS_GOAL))
            shown = f"{wall.show(2)} s, peak RSS {rss.show(0)} MB"
            report.line(f"{n:>7,} {mode}", shown + (f"   [{'; '.join(goals)}]" if goals else ""))
        shutil.rmtree(data, ignore_errors=True)
    return results


def _check_list(mode: str, run: procs.Run, n: int) -> tuple[bool, str]:
    if run.returncode != 0:
        return False, run.describe()
    if mode == "--json":
        try:
            listed = [d.get("name") for d in _parse_json_domains(run.stdout)]
        except ValueError as exc:
            return False, f"not JSON: {exc}"
    elif mode == "piped":
        listed = [line.split("\t", 1)[0] for line in run.stdout.decode(errors="replace").splitlines()]
    else:
        text = run.stdout.decode(errors="replace")
        missing = [domains.domain_name(i) for i in (1, n) if domains.domain_name(i) not in text]
        return (not missing, f"the first and last domains shown ({len(text):,} characters)" if not missing else
                f"{', '.join(missing)} not shown")
    found = {domains.domain_index(name or "") for name in listed} - {None}
    ok = found == set(range(1, n + 1)) and len(listed) == n
    return ok, f"{len(found):,} of {n:,} domains, {len(listed):,} rows"


def _parse_json_domains(data: bytes) -> list[dict]:
    """Domain objects from `--json` output: one JSON array, or (should output ever stream) one value a line."""
    try:
        value = json.loads(data)
        return value if isinstance(value, list) else [value]
    except ValueError:
        items: list[dict] = []
        for line in data.splitlines():
            if line.strip():
                value = json.loads(line)
                items.extend(value if isinstance(value, list) else [value])
        return items


# ---------------------------------------------------------------- bulk verify


@dataclass
class VerifyResult:
    n: int
    delay: float
    rate: Samples = field(default_factory=Samples)  # domains per second
    wall: Samples = field(default_factory=Samples)
    cpu_ms: Samples = field(default_factory=Samples)  # per domain
    rss: Samples = field(default_factory=Samples)
    queries: Samples = field(default_factory=Samples)  # per domain
    correct_queries: Samples = field(default_factory=Samples)  # per correct domain, its share of shared ones included
    to_resolver: Samples = field(default_factory=Samples)


@dataclass
class Baseline:
    k: int
    rate: Samples = field(default_factory=Samples)
    cpu_ms: Samples = field(default_factory=Samples)
    rss: Samples = field(default_factory=Samples)
    queries: Samples = field(default_factory=Samples)


def verify_concurrency(bench: Bench) -> str:
    """Whether `verify` offers --concurrency (the engine work may add it), and its default: the bench measures at
    the default, as users run it."""
    run = bench.run(bench.stackshift("domains", "verify", "--help"), {**_env(bench, bench.tmp("help")),
                                                                        "COLUMNS": "200"}, timeout=60)
    text = run.stdout.decode(errors="replace")
    if "--concurrency" not in text:
        return "verify has no --concurrency option"
    tail = re.split(r"\n\s*[│|]?\s*-", text.split("--concurrency", 1)[1], maxsplit=1)[0]  # up to the next option
    default = re.search(r"default:?\s*([0-9]+)", tail)
    return f"--concurrency at its default ({default.group(1) if default else 'default not shown'})"


def bulk_verify(bench: Bench, world: World, sizes: list[int], checkdmarc_k: int) -> dict[int, VerifyResult]:
    """`stackshift domains verify --all --json` on stores of each size, every domain published in the world (9 in
    10 correct, the rest broken in known ways): domains per second, CPU per domain (the child's user + system
    time), peak RSS, and the queries it sent per domain (counted on the wire), each run starting with a cold
    resolver. Every verdict of every run is checked. Baseline: checkdmarc on the first `checkdmarc_k` domains,
    against the same resolver at the same D, in the same run."""
    report = bench.report
    d = world.delay_ms
    report.section(f"Bulk verify at D = {d:g} ms: `stackshift domains verify --all --json` ({verify_concurrency(bench)})")
    report.line("world", world.describe())
    baseline = checkdmarc_bulk(bench, world, checkdmarc_k) if bench.checkdmarc else None
    results: dict[int, VerifyResult] = {}
    for n in sizes:
        result = results[n] = VerifyResult(n, d)
        source = stores.cached(n, bench.cache, bench.keys, bench.tree, log=bench.log)

        def once(i: int, n=n, result=result, source=source) -> None:
            data = stores.copy(source, bench.tmp(f"verify-{n}"))
            world.flush_resolver()
            capture = Capture(bench.tmp("capture").with_suffix(".pcap"), world.client_filter())
            try:
                run = bench.run(bench.stackshift("domains", "verify", "--all", "--json"), _env(bench, data, world),
                                timeout=7200)
            finally:
                queries = capture.stop()
            shutil.rmtree(data, ignore_errors=True)
            _check_verdicts(report, f"verify --all, {n:,} domains, D = {d:g} ms, run {i + 1}", run, n)
            result.wall.add(run.wall)
            result.rate.add(n / run.wall)
            result.cpu_ms.add(run.cpu * 1000 / n)
            result.rss.add(run.rss_mb)
            _count(result, queries, n)
            if not queries.exact:
                report.print(f"  (capture dropped {queries.dropped} packets: query counts are a lower bound)")

        bench.repeat(f"verify --all {n:,} D={d:g}", once)
        _print_verify(report, result, baseline)
    return results


def _count(result: VerifyResult, queries: Queries, n: int) -> None:
    per_domain = queries.per_domain()
    correct = [i for i in range(1, n + 1) if domains.breakage(i) is None]
    shared = per_domain.get(0, 0)
    result.queries.add(queries.total / n)
    result.correct_queries.add(sum(per_domain.get(i, 0) for i in correct) / len(correct) + shared / n)
    resolver = sum(count for dest, count in queries.by_destination.items()
                   if dest.split(":")[0] in (UNBOUND_ADDR, RESOLVER_PROXY_ADDR))
    result.to_resolver.add(resolver / n)


def _print_verify(report: Report, r: VerifyResult, baseline: Baseline | None) -> None:
    label = f"N = {r.n:,}, D = {r.delay:g} ms"
    report.print(f"  {label}")
    rated = r.n >= RATE_GOAL_FROM  # the rates are for runs of 1,000 domains and more
    goals = [report.goal(f"verify --all {r.n:,} D={r.delay:g}", f"≥ {RATE_GOAL:.0f} domains/s",
                         f"{r.rate.median:.1f}/s", r.rate.median >= RATE_GOAL)] if rated else []
    line = f"{r.rate.show()} domains/s ({r.wall.show(1)} s; CPU/wall {r.cpu_ms.median * r.n / 1000 / r.wall.median:.2f})"
    if baseline is not None and baseline.rate:
        ratio = r.rate.median / baseline.rate.median
        line += f"   checkdmarc {baseline.rate.show()} /s on {baseline.k:,} domains   ratio {ratio:.2f}×"
        if r.delay == 0 and rated:
            goals.append(report.goal(f"verify --all {r.n:,} D=0", f"≥ {CHECKDMARC_FACTOR_GOAL:g}× checkdmarc",
                                     f"{ratio:.2f}×", ratio >= CHECKDMARC_FACTOR_GOAL))
    if not rated:
        line += f"   (no rate goal below {RATE_GOAL_FROM:,} domains: the process start is a large part of the run)"
    report.line("    throughput", line, indent=0)
    goals.append(report.goal(f"verify --all {r.n:,} D={r.delay:g}", f"CPU ≤ {CPU_GOAL_MS:g} ms/domain",
                             f"{r.cpu_ms.median:.1f} ms", r.cpu_ms.median <= CPU_GOAL_MS))
    cpu = f"{r.cpu_ms.show(1)} ms per domain"
    if r.queries.median:
        cpu += f", {r.cpu_ms.median / r.queries.median:.2f} ms per query"
    if baseline is not None and baseline.cpu_ms:
        cpu += f"   checkdmarc {baseline.cpu_ms.show(1)} ms"
    report.line("    CPU (user+sys)", cpu, indent=0)
    goals.append(report.goal(f"verify --all {r.n:,} D={r.delay:g}", f"peak RSS ≤ {VERIFY_RSS_GOAL_MB:.0f} MB",
                             f"{r.rss.median:.0f} MB", r.rss.median <= VERIFY_RSS_GOAL_MB))
    rss = f"{r.rss.show(0)} MB"
    if baseline is not None and baseline.rss:
        rss += f"   checkdmarc {baseline.rss.show(0)} MB"
    report.line("    peak RSS", rss, indent=0)
    queries = (f"{r.queries.show(1)} per domain; {r.correct_queries.show(1)} per correct domain; "
               f"{r.to_resolver.show(1)} of them to the resolver")
    if baseline is not None and baseline.queries:
        queries += f"   checkdmarc {baseline.queries.show(1)}"
    report.line("    queries sent", queries, indent=0)
    report.line("    goals", "; ".join(goals), indent=0)


def _check_verdicts(report: Report, what: str, run: procs.Run, n: int) -> None:
    """Every domain's verdict (status and the four checks) is the one expected, and the exit code follows."""
    try:
        results = _parse_json_domains(run.stdout)
    except ValueError as exc:
        report.check(what, False, f"no JSON on stdout ({exc}); {run.describe()}")
        return
    seen: dict[int, dict] = {}
    wrong: list[str] = []
    for item in results:
        i = domains.domain_index(str(item.get("name", "")))
        if i is None or i in seen or i > n:
            wrong.append(f"unexpected {item.get('name')!r}")
            continue
        seen[i] = item
        got = {key: item.get(key) for key in ("status", *domains.CHECK_FIELDS)}
        expected = domains.expected_verdict(i)
        if got != expected:
            kind = domains.breakage(i)
            diff = ", ".join(f"{key} {got[key]} (expected {expected[key]})" for key in got if got[key] != expected[key])
            wrong.append(f"{item['name']} ({kind.kind if kind else 'correct'}): {diff}")
    missing = n - len(seen)
    statuses = {domains.expected_verdict(i)["status"] for i in range(1, n + 1)}
    code = 3 if "failed" in statuses else 4 if "pending" in statuses else 0
    problems = wrong[:3] + ([f"{missing} domains missing from the output"] if missing else [])
    if run.returncode != code:
        problems.append(f"exit code {run.returncode}, expected {code}")
    broken = sum(1 for i in range(1, n + 1) if domains.breakage(i))
    detail = (f"{n:,} verdicts as expected ({n - broken:,} verified, {broken:,} broken of "
              f"{len({domains.breakage(i).kind for i in range(1, n + 1) if domains.breakage(i)})} kinds), exit {code}")
    report.check(what, not problems, detail if not problems else f"{len(wrong)} wrong: " + " | ".join(problems))


def checkdmarc_bulk(bench: Bench, world: World, k: int) -> Baseline:
    """checkdmarc (its library, as its command line calls it, sequential) on the first k domains, cold resolver."""
    report = bench.report
    baseline = Baseline(k)
    names = bench.tmp("checkdmarc-domains").with_suffix(".txt")
    names.write_text("".join(domains.domain_name(i) + "\n" for i in range(1, k + 1)))

    def once(i: int) -> None:
        world.flush_resolver()
        run, queries = _checkdmarc(bench, world, names)
        valid = _check_checkdmarc(report, f"checkdmarc baseline, {k:,} domains, D = {world.delay_ms:g} ms, run {i + 1}",
                                  run, k)
        if valid:
            baseline.rate.add(k / run.wall)
            baseline.cpu_ms.add(run.cpu * 1000 / k)
            baseline.rss.add(run.rss_mb)
            baseline.queries.add(queries.total / k)

    bench.repeat(f"checkdmarc {k:,} D={world.delay_ms:g}", once)
    return baseline


def _checkdmarc(bench: Bench, world: World, names: Path) -> tuple[procs.Run, Queries]:
    assert bench.checkdmarc is not None
    driver = Path(__file__).with_name("checkdmarc_driver.py")
    capture = Capture(bench.tmp("capture").with_suffix(".pcap"), world.client_filter())
    try:
        env = stores.cli_env(bench.tmp("checkdmarc-home"))
        # A 5 s timeout per query instead of 2 s: no answer is lost on loopback, but a loaded machine (the smoke
        # test runs beside the whole suite) must not turn a slow answer into a wrong baseline.
        run = procs.run([str(bench.checkdmarc), str(driver), "--resolver", world.resolver, "--timeout", "5",
                         str(names)], env=env, timeout=7200)
    finally:
        queries = capture.stop()
    return run, queries


def _check_checkdmarc(report: Report, what: str, run: procs.Run, k: int) -> bool:
    """checkdmarc did its work: SPF and DMARC valid for every correct domain, and nothing tried to leave loopback."""
    attempts = re.search(rb"outside-attempts: (\{.*\})", run.stderr)
    outside = json.loads(attempts.group(1)) if attempts else None
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith(b"{")]
    correct = {domains.domain_name(i) for i in range(1, k + 1) if domains.breakage(i) is None}
    valid = {r["domain"] for r in lines if r["spf"] and r["dmarc"]}
    problems = []
    if run.returncode != 0 or outside is None:
        problems.append(run.describe())
    if outside:
        problems.append(f"tried to leave loopback (refused): {outside}")
    if correct - valid:
        problems.append(f"{len(correct - valid)} correct domains not judged valid, e.g. {sorted(correct - valid)[:3]}")
    report.check(what, not problems, f"{len(lines):,} domains checked, SPF and DMARC valid for all {len(correct):,} "
                 "correct ones, no attempt to leave loopback" if not problems else " | ".join(problems))
    return not problems


# ---------------------------------------------------------------- single verify


def single_verify(bench: Bench, world: World, repeats: int) -> None:
    """`stackshift domains verify d000001.bench` (a correct domain) with every answer D late (D large, 200 ms):
    - sequential rounds: the waves in which its queries left (a query that waits for an answer leaves at least D
      after the previous wave), counted on the wire; with a warm resolver each answer costs exactly D, so this is
      the client's own chain of round trips. Cross-check: (wall − time to the first packet) / D.
    - first packet: from just before the spawn to the first query on the wire (the start-up before any lookup).
    The same with a cold resolver (its own misses add D each), and checkdmarc on the same domain (sequential)."""
    report = bench.report
    d = world.delay_ms
    report.section(f"Single verify of a correct domain at D = {d:g} ms (`stackshift domains verify "
                   f"{domains.domain_name(1)} --json`)")
    data = stores.copy(stores.cached(100, bench.cache, bench.keys, bench.tree, log=bench.log), bench.tmp("single"))
    env = _env(bench, data, world)
    argv = bench.stackshift("domains", "verify", domains.domain_name(1), "--json")
    gap = d / 2000

    zones = data / "cache" / "zones.json"  # the zones the last run found (stackshift_cli/verify/zonecache.py)

    def measure(warm: bool, remembered: bool = True) -> tuple[Samples, Samples, Samples, Samples]:
        rounds, first, wall, crosscheck = Samples(), Samples(), Samples(), Samples()
        if warm:
            world.flush_resolver()
            bench.run(argv, env, timeout=600)  # warms the resolver: from now on each answer costs D

        def once(i: int) -> None:
            if not warm:
                world.flush_resolver()
            if not remembered:
                zones.unlink(missing_ok=True)
            capture = Capture(bench.tmp("capture").with_suffix(".pcap"), world.client_filter())
            try:
                run = bench.run(argv, env, timeout=600)
            finally:
                queries = capture.stop()
            status = _status(run)
            if i == 0 or status != "verified":
                report.check(f"single verify ({'warm' if warm else 'cold'} resolver): verified",
                             status == "verified" and run.returncode == 0,
                             f"status {status}, exit {run.returncode}")
            start = queries.first_time()
            if start is None:
                report.check("single verify: queries seen on the wire", False, run.describe())
                return
            rounds.add(queries.rounds(gap))
            first.add((start - run.started) * 1000)
            wall.add(run.wall)
            crosscheck.add((run.wall - (start - run.started)) / (d / 1000))

        bench.repeat(f"single verify ({'warm' if warm else 'cold'})", once, repeats)
        return rounds, first, wall, crosscheck

    rounds, first, wall, crosscheck = measure(warm=True)
    cold_rounds, cold_first, cold_wall, _ = measure(warm=False)
    new_rounds, _, new_wall, _ = measure(warm=True, remembered=False)
    first_all = Samples(first.values + cold_first.values)
    if rounds:
        verdict = report.goal("single verify", f"≤ {ROUNDS_GOAL} sequential rounds", f"{rounds.median:g}",
                              rounds.median <= ROUNDS_GOAL)
        report.line("rounds (warm)", f"{rounds.show(0)} waves of queries; (wall − first packet) / D = "
                    f"{crosscheck.show(2)}; wall {wall.show(2)} s   [{verdict}]")
    if cold_rounds:
        report.line("rounds (cold)", f"{cold_rounds.show(0)} waves; wall {cold_wall.show(2)} s (the resolver's own "
                    "misses wait D too)")
    if new_rounds:
        report.line("rounds (first run)", f"{new_rounds.show(0)} waves; wall {new_wall.show(2)} s (warm resolver, no "
                    "zone remembered from an earlier run: NS, then the servers' addresses, then the records)")
    if first_all:
        verdict = report.goal("single verify", f"first packet ≤ {FIRST_PACKET_GOAL_MS:.0f} ms",
                              f"{first_all.median:.0f} ms", first_all.median <= FIRST_PACKET_GOAL_MS)
        report.line("first packet", f"{first_all.show(0)} ms after the spawn   [{verdict}]")
    if bench.checkdmarc and not bench.quick:  # --quick: its cold and warm runs would take ~10 s
        checkdmarc_single(bench, world, repeats)
    shutil.rmtree(data, ignore_errors=True)


def checkdmarc_single(bench: Bench, world: World, repeats: int) -> None:
    """checkdmarc on the same domain, same D, warm resolver: how many sequential queries (it sends one at a time, so
    each is a round) and its time."""
    report = bench.report
    names = bench.tmp("checkdmarc-single").with_suffix(".txt")
    names.write_text(domains.domain_name(1) + "\n")
    rounds, sent, wall = Samples(), Samples(), Samples()
    world.flush_resolver()
    _checkdmarc(bench, world, names)  # warm

    def once(i: int) -> None:
        run, queries = _checkdmarc(bench, world, names)
        if _check_checkdmarc(report, f"checkdmarc single, D = {world.delay_ms:g} ms, run {i + 1}", run, 1):
            rounds.add(queries.rounds(world.delay_ms / 2000))
            sent.add(queries.total)
            wall.add(run.wall)

    bench.repeat("checkdmarc single", once, repeats)
    if rounds:
        report.line("checkdmarc (baseline)", f"{rounds.show(0)} sequential rounds, {sent.show(0)} queries, "
                    f"wall {wall.show(2)} s (warm resolver)")


def _status(run: procs.Run) -> str | None:
    try:
        items = _parse_json_domains(run.stdout)
        return items[0].get("status") if items else None
    except (ValueError, AttributeError):
        return None
