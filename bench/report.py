"""What the bench prints: each figure as median [min–max] over its repeats, its baseline from the same run, the
ratio, the issue's goal and whether it is met; how cost grows with size; and whether every verdict was as expected.

Figures are printed as they are measured (a long run shows progress), then gathered in two summary tables: the goals
of issue 11, and the verdict checks. Nothing here measures anything.
"""

from __future__ import annotations

import math
import statistics
import sys
from dataclasses import dataclass, field
from typing import Callable, Sequence, TextIO

GROWTH_LIMIT = 1.5  # per-unit cost rising more than this over a 10x step in size is called out


@dataclass
class Samples:
    """The values of one quantity over the repeats of a figure."""

    values: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.values.append(value)

    def __bool__(self) -> bool:
        return bool(self.values)

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def show(self, digits: int | None = None, unit: str = "") -> str:
        """`12.3 [11.9–12.8]`, or `12.3 (n=1)` for one value."""
        if not self.values:
            return "-"
        spread = f" [{number(self.low, digits)}–{number(self.high, digits)}]" if self.n > 1 else " (n=1)"
        return f"{number(self.median, digits)}{unit}{spread}"


def number(value: float, digits: int | None = None) -> str:
    """A value with about three significant figures (or `digits` decimals), thousands separated."""
    if digits is None:
        magnitude = abs(value)
        digits = 0 if magnitude >= 100 else 1 if magnitude >= 10 else 2 if magnitude >= 1 else 3
    return f"{value:,.{digits}f}"


@dataclass
class Goal:
    figure: str
    goal: str
    value: str
    met: bool


@dataclass
class Check:
    what: str
    passed: bool
    detail: str


class Report:
    """Collects and prints the bench's findings."""

    def __init__(self, out: TextIO = sys.stdout) -> None:
        self.out = out
        self.goals: list[Goal] = []
        self.checks: list[Check] = []
        self.growth: list[str] = []

    def print(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def section(self, title: str) -> None:
        self.print()
        self.print(f"== {title}")

    def line(self, label: str, text: str, indent: int = 2, width: int = 22) -> None:
        self.print(f"{' ' * indent}{label:<{width}} {text}")

    def goal(self, figure: str, goal: str, value: str, met: bool) -> str:
        """Record a goal of issue 11; the `met`/`NOT MET` text to show beside the figure."""
        self.goals.append(Goal(figure, goal, value, met))
        return f"{goal}: {'met' if met else 'NOT MET'}"

    def check(self, what: str, passed: bool, detail: str) -> None:
        """Record a verdict check (every one must pass: the bench exits 1 otherwise)."""
        self.checks.append(Check(what, passed, detail))
        if not passed:
            self.print(f"  !! CHECK FAILED: {what}: {detail}")

    @property
    def all_checks_passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def growth_table(self, title: str, unit: str, sizes: Sequence[int], time_per: Callable[[int], float | None],
                     mem_total: Callable[[int], float | None]) -> None:
        """How time and memory per unit change from one size to the next; growth worse than linear (per-unit cost
        up more than GROWTH_LIMIT over a 10x step, scaled for other steps) is called out."""
        rows = [n for n in sizes if time_per(n) is not None]
        if len(rows) < 2:
            return
        self.section(f"Growth: {title}")
        self.line(f"{unit}s", f"{'time/' + unit:>14} {'peak RSS':>10} {'RSS/' + unit:>10}")
        for n in rows:
            t, m = time_per(n), mem_total(n)
            self.line(f"{n:,}", f"{t * 1000:>11.3f} ms {m or 0:>7.0f} MB {(m or 0) * 1024 / n:>7.1f} KB")
        for small, large in zip(rows, rows[1:]):
            step = large / small
            limit = GROWTH_LIMIT ** math.log10(step)  # 1.5 for a 10x step
            t_ratio = time_per(large) / time_per(small)
            m_small, m_large = mem_total(small) or 0, mem_total(large) or 0
            m_ratio = (m_large / large) / (m_small / small) if m_small else 0
            extra = (m_large - m_small) * 1024 / (large - small)
            verdicts = []
            for what, ratio in (("time", t_ratio), ("memory", m_ratio)):
                if ratio > limit:
                    verdicts.append(f"{what} WORSE THAN LINEAR (per-{unit} ×{ratio:.2f})")
            note = "; ".join(verdicts) or "no worse than linear"
            text = (f"{small:,} → {large:,}: time/{unit} ×{t_ratio:.2f}, RSS/{unit} ×{m_ratio:.2f} "
                    f"(+{extra:.1f} KB per extra {unit}): {note}")
            self.line("", text, indent=0)
            self.growth.append(f"{title}: {text}")

    def summary(self) -> None:
        self.section("Goals of issue 11")
        width = max([len(g.figure) for g in self.goals] + [10])
        goal_width = max([len(g.goal) for g in self.goals] + [4])
        for g in self.goals:
            self.print(f"  {g.figure:<{width}}  {g.goal:<{goal_width}}  {g.value:<24} {'met' if g.met else 'NOT MET'}")
        met = sum(g.met for g in self.goals)
        self.print(f"  {met} of {len(self.goals)} goals met")
        if self.growth:
            worse = [g for g in self.growth if "WORSE" in g]
            self.section("Growth worse than linear")
            for g in worse or ["none"]:
                self.print(f"  {g}")
        self.section("Verdict checks")
        for c in self.checks:
            self.print(f"  {'ok  ' if c.passed else 'FAIL'} {c.what}: {c.detail}")
        failed = [c for c in self.checks if not c.passed]
        if failed:
            self.print(f"  {len(failed)} of {len(self.checks)} verdict checks FAILED")
        else:
            self.print(f"  every verdict check passed ({len(self.checks)} checks)")
