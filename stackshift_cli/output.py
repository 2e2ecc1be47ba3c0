"""Everything the user sees: data on stdout (tables, copy-ready lines, JSON, zone, CSV), messages on stderr.

Rich is imported only when a table is drawn on a terminal; piped output is plain and stable. Text from outside
(names, values, explanations and messages from the API or DNS) never reaches a terminal raw: every format but
JSON shows control and invisible characters as escapes (escape.visible), JSON escapes them its own way, and
the zone format as \\DDD.
"""

from __future__ import annotations

import csv
import io
import os
import re
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping, Sequence, TextIO

from stackshift_cli.escape import visible
from stackshift_cli.names import to_unicode

if TYPE_CHECKING:
    from rich.live import Live
    from rich.progress import Progress as ProgressBar

    from stackshift_cli.domain import DnsRecord, Domain
    from stackshift_cli.verify.wait import Progress


def checks_label(purpose: str | None) -> str:
    """checks.label, imported when a label is shown: `domains list` starts without the checks registry."""
    from stackshift_cli.checks import label

    return label(purpose)

RECORD_FORMATS = ("table", "json", "plain", "zone", "csv")
ZONE_TTL = 3600
TXT_CHUNK = 255

_STATUS_STYLE = {"verified": "green", "pending": "yellow", "missing": "yellow", "failed": "red", "disabled": "dim"}
_ANSI = {"red": "31", "yellow": "33", "green": "32", "dim": "2", "bold": "1"}


def color_disabled_by_env() -> bool:
    """NO_COLOR (no-color.org), or a terminal that says it shows no escape sequences (TERM=dumb)."""
    if color_forced_by_env():
        return False
    return bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM") == "dumb"


def color_forced_by_env() -> bool:
    """FORCE_COLOR (force-color.org): colour even when the output is not a terminal, unless NO_COLOR is set."""
    return os.environ.get("FORCE_COLOR", "") not in ("", "0") and not os.environ.get("NO_COLOR")


@dataclass
class Ui:
    """Output settings decided once per run, and the streams to write to (injectable for tests)."""

    json: bool = False
    quiet: bool = False
    color: bool = True
    debug: bool = False
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    stdin: TextIO = field(default_factory=lambda: sys.stdin)

    # ------------------------------------------------------------ terminal facts

    @property
    def stdout_tty(self) -> bool:
        return _isatty(self.stdout)

    @property
    def stderr_tty(self) -> bool:
        return _isatty(self.stderr)

    @property
    def interactive(self) -> bool:
        """Prompts only when a person can answer them: stdin and stdout are terminals."""
        return _isatty(self.stdin) and self.stdout_tty

    def _paint(self, text: str, style: str, stream: TextIO) -> str:
        if not (self.color and (_isatty(stream) or color_forced_by_env()) and style in _ANSI):
            return text
        return f"\033[{_ANSI[style]}m{text}\033[0m"

    # ------------------------------------------------------------ messages (stderr)

    def info(self, message: str) -> None:
        if not self.quiet:
            print(visible(message), file=self.stderr)

    def success(self, message: str) -> None:
        if not self.quiet:
            print(self._paint(visible(message), "green", self.stderr), file=self.stderr)

    def warn(self, message: str) -> None:
        print(self._paint("Warning: ", "yellow", self.stderr) + visible(message), file=self.stderr)

    def error(self, message: str, hint: str | None = None) -> None:
        print(self._paint("Error: ", "red", self.stderr) + visible(message), file=self.stderr)
        if hint:
            print(visible(hint), file=self.stderr)

    def debug_log(self, message: str) -> None:
        if self.debug:
            print(self._paint(f"debug: {visible(message)}", "dim", self.stderr), file=self.stderr)

    def confirm(self, question: str) -> bool:
        """Ask on the terminal; only an explicit yes is yes. End of input is a no (a cancellation, not an
        interrupt); Ctrl-C stays an interrupt."""
        self.stderr.write(f"{visible(question)} [y/N]: ")
        self.stderr.flush()
        answer = self.stdin.readline()
        if not answer:
            self.stderr.write("\n")
        return answer.strip().lower() in ("y", "yes")

    # ------------------------------------------------------------ data (stdout)

    def line(self, text: str = "") -> None:
        """One line of data. Callers pass outside text through `fields()` (or visible()) first."""
        print(text, file=self.stdout)

    def emit_json(self, data: Any) -> None:
        print(json_text(data), file=self.stdout)

    def console(self):
        from rich.console import Console

        # color_system=None: no escape sequences at all (NO_COLOR users want no bold either)
        return Console(file=self.stdout, color_system="auto" if self.color else None, highlight=False,
                       soft_wrap=False)

    def status_text(self, status: str) -> str:
        """A status word, coloured for a terminal (Rich markup)."""
        style = _STATUS_STYLE.get(status)
        shown = _escape(status)
        return f"[{style}]{shown}[/{style}]" if style and self.color else shown

    # ------------------------------------------------------------ records

    def records(self, records: Iterable[DnsRecord], fmt: str = "table", *, domain: Domain | None = None) -> None:
        records = list(records)
        if self.json or fmt == "json":
            self.emit_json([r.to_json() for r in records])
        elif fmt == "zone":
            self.line(zone_fragment(records, origin=domain.name if domain else None))
        elif fmt == "csv":
            self.stdout.write(records_csv(records))
        elif fmt == "plain" or not self.stdout_tty:
            self._plain_records(records)
        else:
            self._records_table(records)
            self.line()
            self.line("Copy-ready (host, type, value separated by tabs):")
            self._plain_records(records)

    def _plain_records(self, records: list[DnsRecord]) -> None:
        for line in plain_record_lines(records):
            self.line(line)

    def _records_table(self, records: list[DnsRecord], *, title: str | None = None) -> None:
        """The records to publish (host, type, value) or, once checked, their verdicts (status, explanation)."""
        from rich.table import Table

        console = self.console()
        explained = any(r.explanation for r in records)
        host_width = min(40, max((len(r.host) for r in records), default=4))
        fixed = host_width + 5 + 8 + 8 + 3 * 5 + 1  # Host, Type, Status, Required and the borders
        table = Table(title=title, show_lines=explained, expand=False)
        table.add_column("Host", no_wrap=True, width=host_width, overflow="ellipsis")
        table.add_column("Type", no_wrap=True, width=5)
        if explained:
            # Checked: what matters is the verdict; the value is in `records`, the explanation says what to fix.
            table.add_column("Status", no_wrap=True, width=8)
            table.add_column("Required", no_wrap=True, width=8)
            table.add_column("Explanation", overflow="fold", width=max(30, console.width - fixed))
        else:
            # A long value (a DKIM key) is cut with an ellipsis: the copy-ready lines show it whole.
            longest = max((len(display_value(r)) for r in records), default=5)
            table.add_column("Value", no_wrap=True, overflow="ellipsis", width=max(20, min(longest, console.width - fixed)))
            table.add_column("Status", no_wrap=True, width=8)
            table.add_column("Required", no_wrap=True, width=8)
        for r in records:
            middle = [r.explanation or ""] if explained else [display_value(r)]
            cells = [_escape(r.host), _escape(r.type)]
            if explained:
                cells += [self.status_text(r.status), "yes" if r.required else "no", _escape(middle[0])]
            else:
                cells += [_escape(middle[0]), self.status_text(r.status), "yes" if r.required else "no"]
            table.add_row(*cells)
        console.print(table)

    # ------------------------------------------------------------ publish plans

    def changes(self, changes: Sequence[Mapping[str, Any]], *, title: str | None = None) -> None:
        """A publish or unpublish plan, one line per record (Change.to_json rows): a table on a terminal, else
        TSV (action, name, type, value, old value, reason)."""
        if not self.stdout_tty:
            for c in changes:
                self.line(tsv(c["action"], c["name"], c["type"], _change_value(c), c["oldValue"] or "",
                              c["reason"] or ""))
            return
        from rich.table import Table

        console = self.console()
        table = Table(title=title, show_lines=True, expand=False)
        table.add_column("Action", no_wrap=True)
        table.add_column("Host", no_wrap=True, max_width=40, overflow="ellipsis")
        table.add_column("Type", no_wrap=True, width=5)
        table.add_column("Value", overflow="fold", max_width=max(30, console.width // 2))
        table.add_column("Why", overflow="fold")
        for c in changes:
            value = _escape(_shortened(_change_value(c)))  # whole in TSV and JSON; a DKIM key fills a screen
            if c["oldValue"] and c["action"] in ("update", "restore"):
                value = f"{_escape(_shortened(c['oldValue']))}\n→ {value}"
            elif c["oldValue"] and c["action"] in ("conflict", "left"):
                value = _escape(_shortened(c["oldValue"]))
            style = _STATUS_STYLE.get(_ACTION_STATUS.get(c["action"], ""))
            action = f"[{style}]{_escape(c['action'])}[/{style}]" if style and self.color else _escape(c["action"])
            table.add_row(action, _escape(c.get("host") or c["name"]), _escape(c["type"]), value,
                          _escape(c["reason"] or ""))
        console.print(table)

    # ------------------------------------------------------------ domains

    def domain(self, domain: Domain, *, show_key_path: bool = False) -> None:
        """One domain with every field, the bulk-sender requirements DNS shows, and its records (`show`)."""
        from stackshift_cli.domain import format_time
        from stackshift_cli.requirements import requirements

        found = domain.requirements or requirements(domain)
        data = domain.to_json()
        if show_key_path:
            data["dkimPrivateKeyPath"] = domain.dkim_key_path
        data["verifiedSince"] = format_time(domain.verified_since)
        data["lastChangeAt"] = format_time(domain.last_change_at)
        data["bulkSenderRequirements"] = [r.to_json() for r in found]
        if self.json:
            self.emit_json(data)
            return
        fields = domain_fields(domain, show_key_path=show_key_path)
        if not self.stdout_tty:
            for key, value in fields:
                self.line(tsv(key, value))
            for r in found:
                self.line(tsv(f"requirement.{r.key}", f"{_met_word(r.met)}: {r.description} ({r.detail})"))
            self.line()
            self._plain_records(list(domain.records))
            return
        console = self.console()
        width = max(len(k) for k, _ in fields)
        for key, value in fields:
            shown = self.status_text(value) if key.endswith("tatus") else _escape(value)
            console.print(f"[bold]{key.ljust(width)}[/bold]  {shown}" if self.color else f"{key.ljust(width)}  {shown}")
        self.line()
        self.line("Bulk-sender requirements (Gmail, Yahoo, Outlook) that DNS shows:")
        for r in found:
            word = _met_word(r.met)
            style = {"yes": "verified", "no": "failed"}.get(word, "pending")
            mark = self.status_text(style).replace(style, word.ljust(7))
            console.print(f"  {mark} {_escape(r.description)}: {_escape(r.detail)}")
        self.line()
        self._records_table(list(domain.records))
        self.info(f"Full values: stackshift domains records {domain.name}")

    def domain_list(self, domains: Iterable[Domain]) -> None:
        """Domains as `domains list` shows them (see listing)."""
        self.listing(d.to_json() for d in domains)

    def listing(self, domains: Iterable[Mapping[str, Any]]) -> None:
        """`domains list`: each domain's JSON object (Domain.to_json; "records" only needed for --json), written as
        it comes, so any number of domains is listed in bounded memory.

        --json: a JSON array of the objects (json_items). Piped: a tab-separated row per domain. On a terminal: a
        table of aligned columns, whatever the number of rows."""
        if self.json:
            self.json_items(domains)
            return
        rows = _list_rows(domains)
        if not self.stdout_tty:
            self._lines(tsv(*row) for row in rows)
            return
        self._list_table(rows)

    def json_items(self, items: Iterable[Mapping[str, Any]]) -> None:
        """A JSON array of objects (`domains list`, `verify --all`), written as they come: each element as
        json_item makes it."""
        self._json_array(map(self.json_item, items))

    def json_item(self, data: Mapping[str, Any]) -> str:
        """One element of a JSON array: indented as json.dumps(array, indent=2) writes it on a terminal, where a
        person reads it; to a script, one compact line (json's C encoder: indenting runs in pure Python, at several
        times the cost, for nobody). Made safe like json_text."""
        if self.stdout_tty:
            return _indented_item(data)
        return _json_safe(compact_json(data))

    def json_lines(self, lines: Iterable[str]) -> None:
        """A JSON array of objects given as compact JSON text (`json.dumps(obj, ensure_ascii=False)`), one per line
        between `[` and `]`: what --json prints to a script, written as it comes. Indenting, which only people need,
        runs in Python at several times the cost of json's C encoder. The text is made safe like json_text's."""
        self._json_array(map(_json_safe, lines))

    def _json_array(self, items: Iterator[str]) -> None:
        """The elements, already encoded, as the lines of one JSON array (`[]` when there are none)."""
        first = next(items, None)
        if first is None:
            self.line("[]")
            return
        self._lines(_joined(first, items))

    def _lines(self, lines: Iterable[str]) -> None:
        """Lines of data, written in blocks (one write per line costs more than making the line)."""
        block: list[str] = []
        for line in lines:
            block.append(line)
            if len(block) == 256:
                self.stdout.write("\n".join(block) + "\n")
                block.clear()
        if block:
            self.stdout.write("\n".join(block) + "\n")

    def _list_table(self, rows: Iterable[list[Any]]) -> None:
        """Aligned columns with a header: as fast for 100,000 rows as for 3 (a Rich table of that size takes
        minutes), every cell escaped (escape.visible), statuses coloured."""
        from stackshift_cli.checks import REGISTRY

        shown = []
        for name, *rest in rows:
            label = str(name)
            unicode_name = to_unicode(label)
            shown.append([visible(label if unicode_name == label else f"{label} ({unicode_name})"),
                          *(visible(str(cell)) for cell in rest)])
        if not shown:
            self.info("No domains yet. Create one with `stackshift domains create example.com`.")
            return
        header = ["NAME", "STATUS", *(k.column or k.label.upper() for k in REGISTRY if k.status_field), "CREATED",
                  "LAST CHECKED"]
        widths = [max(map(_cell_width, column)) for column in zip(header, *shown)]
        statuses = range(1, len(header) - 2)

        def line(cells: list[str], bold: bool = False) -> str:
            out = []
            for index, cell in enumerate(cells):
                pad = " " * (widths[index] - _cell_width(cell)) if index < len(cells) - 1 else ""
                style = "bold" if bold else (_STATUS_STYLE.get(cell) if index in statuses else None)
                out.append(self._paint(cell, style, self.stdout) + pad if style else cell + pad)
            return "  ".join(out)

        self._lines([line(header, bold=True), *(line(cells) for cells in shown)])
def _met_word(met: bool | None) -> str:
    return "unknown" if met is None else ("yes" if met else "no")


def domain_fields(domain: Domain, *, show_key_path: bool) -> list[tuple[str, str]]:
    from stackshift_cli.domain import CHECK_FIELDS, format_time

    unicode_name = to_unicode(domain.name)
    fields = [("id", domain.id), ("name", domain.name)]
    if unicode_name != domain.name:
        fields.append(("unicodeName", unicode_name))
    fields.append(("status", domain.status))
    fields += [(f, domain.check_status(f)) for f in CHECK_FIELDS.values()]
    fields += [
        ("createdAt", format_time(domain.created_at) or "-"),
        ("lastCheckedAt", format_time(domain.last_checked_at) or "never"),
        ("dkimSelector", domain.dkim_selector or "-"),
        ("verifiedSince", format_time(domain.verified_since) or "-"),
        ("lastChangeAt", format_time(domain.last_change_at) or "-"),
    ]
    if domain.explanation:
        fields.append(("explanation", domain.explanation))
    if show_key_path:
        fields.append(("dkimPrivateKeyPath", domain.dkim_key_path or "(kept by the StackShift API)"))
    rotation = domain.dkim_rotation
    if rotation is not None:
        shown = rotation.to_json()
        fields.append(("dkimRotation", f"{rotation.phase}: {rotation.old_selector} → {rotation.new_selector}"))
        fields += [(f"dkimRotation.{key}", str(value)) for key, value in shown.items()
                   if key.endswith(("At", "After")) and value is not None]
    return fields


# The colour of each plan action: the status whose colour it takes.
_ACTION_STATUS = {"keep": "verified", "create": "pending", "update": "pending", "conflict": "failed",
                  "delete": "pending", "restore": "pending", "left": "failed"}


def _change_value(change: Mapping[str, Any]) -> str:
    """A plan line's value, an MX's with its priority."""
    value = change["value"] or ""
    return f"{change['priority']} {value}" if change.get("priority") is not None and value else value


def _shortened(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[:limit - 40] + "…"


def display_value(record: DnsRecord) -> str:
    """The value as a DNS provider's form wants it: MX values carry their priority."""
    if record.type == "MX" and record.priority is not None:
        return f"{record.priority} {record.value}"
    return record.value


def tsv(*fields: object) -> str:
    """One line of tab-separated fields, each with its control characters (tabs and line breaks too) escaped."""
    return "\t".join(visible(str(f)) for f in fields)


def json_text(data: Any) -> str:
    """JSON as printed: control characters are escaped by json itself; DEL, C1 controls and the characters that
    reorder or break lines on a terminal are escaped here too (still valid JSON)."""
    import json

    return _json_safe(json.dumps(data, indent=2, ensure_ascii=False))


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def _json_safe(text: str) -> str:
    """`text` with _JSON_UNSAFE escaped (only DEL among them is ASCII: plain ASCII text is looked at no further)."""
    if text.isascii() and "\x7f" not in text:
        return text
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def json_line(data: Any) -> str:
    """One line of JSON, escaped as json_text escapes (JSON Lines for log shippers)."""
    return _json_safe(compact_json(data))


def compact_json(data: Any) -> str:
    """`json.dumps(data, ensure_ascii=False)` with one encoder made once: a listing encodes an object per domain."""
    global _COMPACT
    if _COMPACT is None:
        import json

        _COMPACT = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
    return _COMPACT(data)


_COMPACT: Any = None


def _indented_item(data: Mapping[str, Any]) -> str:
    """One element of an array as json.dumps(array, indent=2) writes it."""
    return "  " + json_text(data).replace("\n", "\n  ")  # every line break in it is json's own (strings escape them)


def _joined(first: str, rest: Iterable[str]) -> Iterator[str]:
    """The lines of a JSON array of already encoded elements, laid out as json.dumps(array, indent=2) does:
    `[`, the elements separated by `,` at the end of a line, `]`."""
    yield "["
    previous = first
    for item in rest:
        yield previous + ","
        previous = item
    yield previous
    yield "]"


def _list_rows(domains: Iterable[Mapping[str, Any]]) -> Iterator[list[Any]]:
    """A table row per domain JSON object: name, status, each check's status (checks registry), created, last
    checked (`never`)."""
    from stackshift_cli.checks import REGISTRY

    fields = [k.status_field for k in REGISTRY if k.status_field]
    for data in domains:
        yield [data["name"], data["status"], *(data[f] for f in fields), data["createdAt"] or "-",
               data["lastCheckedAt"] or "never"]


def _cell_width(text: str) -> int:
    """Columns `text` takes on a terminal: wide (East Asian) characters two, combining marks none."""
    if text.isascii():
        return len(text)
    import unicodedata

    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def plain_record_lines(records: Iterable[DnsRecord]) -> list[str]:
    """One record per line: host, type, value separated by tabs; never wrapped, never coloured."""
    return [tsv(r.host, r.type, display_value(r)) for r in records]


def records_csv(records: Iterable[DnsRecord]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["host", "type", "value", "priority", "name", "purpose", "required", "status", "explanation"])
    for r in records:
        writer.writerow([visible(str(v)) for v in (
            r.host, r.type, r.value, "" if r.priority is None else r.priority, r.name, r.purpose or "",
            "true" if r.required else "false", r.status, r.explanation or "")])
    return buffer.getvalue()


def zone_fragment(records: Iterable[DnsRecord], *, origin: str | None = None, ttl: int = ZONE_TTL) -> str:
    """A BIND zone-file fragment with absolute names; TXT values split into 255-byte strings."""
    lines = [f"; DNS records for {origin}, generated by stackshift" if origin else "; generated by stackshift"]
    for r in records:
        if r.type == "TXT":
            rdata = " ".join(f'"{_zone_escape(chunk)}"' for chunk in split_txt(r.value))
        elif r.type == "MX":
            rdata = f"{r.priority if r.priority is not None else 10} {_absolute(r.value)}"
        elif r.type == "CNAME":
            rdata = _absolute(r.value)
        else:
            rdata = r.value
        lines.append(f"{_absolute(r.name)}\t{ttl}\tIN\t{r.type}\t{rdata}")
    return "\n".join(lines)


def split_txt(value: str, size: int = TXT_CHUNK) -> list[str]:
    """Split a TXT value into character-strings of at most `size` bytes (RFC 1035 3.3.14)."""
    data = value.encode("utf-8")
    chunks = [data[i : i + size] for i in range(0, len(data), size)] or [b""]
    return [c.decode("utf-8", errors="replace") for c in chunks]


def _zone_escape(text: str) -> str:
    """A TXT string or a name in zone-file syntax (RFC 1035 5.1): quotes and backslashes escaped, and every byte
    outside printable ASCII as \\DDD."""
    out = []
    for byte in text.encode("utf-8", errors="surrogateescape"):
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= byte < 0x7F:
            out.append(char)
        else:
            out.append(f"\\{byte:03d}")
    return "".join(out)


def _absolute(name: str) -> str:
    name = _zone_escape(name).replace(" ", "\\032")
    return name if name.endswith(".") else name + "."


def _escape(text: str) -> str:
    """Outside text for a Rich table or line: control characters escaped, then Rich markup escaped."""
    from rich.markup import escape

    return escape(visible(text))


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


# ---------------------------------------------------------------- verify: results and progress



def verify_report(ui: Ui, domains: list[Domain], *, many: bool) -> None:
    """The outcome of `verify`: the domain (an array with --all) as JSON, else each domain's records with their
    status and explanation; with --all on a terminal, a summary table first."""
    if ui.json:
        if many:
            ui.json_items(d.to_json() for d in domains)
        else:
            ui.emit_json(domains[0].to_json())
        return
    if not ui.stdout_tty:
        for index, domain in enumerate(domains):
            if index:
                ui.line()
            _report_lines(ui, domain)
        return
    if many:
        ui.domain_list(domains)
        ui.line()
    for domain in domains:
        if many and domain.status == "verified":
            continue
        title = f"{_escape(domain.name)}: {ui.status_text(domain.status)}"
        ui.console().print(title)
        if domain.explanation:
            ui.console().print(_escape(domain.explanation))
        ui._records_table(list(domain.records))


def regressions_line(domains: Iterable[Domain]) -> str | None:
    """verify --all's first word on regressions: the domains that were verified and are not now, by name."""
    names = sorted(d.name for d in domains if d.regressed_at is not None)
    if not names:
        return None
    shown = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
    return f"{len(names)} regression{'s' if len(names) > 1 else ''} (verified before, not now): {shown}."


def _report_lines(ui: Ui, domain: Domain) -> None:
    """A domain in verify's report to a script: `name status id`, then `host type status explanation` per record
    (a domain's own explanation, a regression's, goes to stderr: the lines keep their shape)."""
    ui.line(tsv(domain.name, domain.status, domain.id))
    if domain.explanation:
        ui.info(f"{domain.name}: {domain.explanation}")
    for r in domain.records:
        ui.line(tsv(r.host, r.type, r.status, r.explanation or ""))


class VerifyStream:
    """The report of `verify --all` without --wait, written as the results come (scripts, cron): the same bytes
    verify_report writes at the end, in the order the domains were given, while at most the results that
    arrived ahead of an earlier domain still being checked are held back.

    `expect(domain)` once per domain in the order given; `result(domain)` with its stored result;
    `drop(domain)` when it will have none (deleted meanwhile); `close()` at the end."""

    def __init__(self, ui: Ui) -> None:
        self.ui = ui
        self._order: dict[str, int] = {}  # id -> place, for the domains given and not written yet
        self._ready: dict[int, Domain | None] = {}
        self._given = 0
        self._next = 0
        self._written = 0

    def expect(self, domain: Domain) -> None:
        self._order[domain.id] = self._given
        self._given += 1

    def result(self, domain: Domain) -> None:
        self._ready[self._order.pop(domain.id)] = domain
        self._flush()

    def drop(self, domain: Domain) -> None:
        place = self._order.pop(domain.id, None)
        if place is not None:
            self._ready[place] = None
            self._flush()

    def _flush(self) -> None:
        while self._next in self._ready:
            domain = self._ready.pop(self._next)
            self._next += 1
            if domain is not None:
                self._write(domain)

    def _write(self, domain: Domain) -> None:
        first = not self._written
        self._written += 1
        if self.ui.json:
            self.ui.stdout.write(("[\n" if first else ",\n") + self.ui.json_item(domain.to_json()))
            return
        if not first:
            self.ui.line()
        _report_lines(self.ui, domain)

    def close(self) -> None:
        """Write what is still held (the domains before it were never given a result), and end the array."""
        for place in sorted(self._ready):
            domain = self._ready.pop(place)
            if domain is not None:
                self._write(domain)
        if self.ui.json:
            self.ui.stdout.write("\n]\n" if self._written else "[]\n")
        self.ui.stdout.flush()


def record_label(record: DnsRecord) -> str:
    """'DKIM TXT stackshift._domainkey.example.com', for progress lines."""
    label = checks_label(record.purpose)
    return " ".join(filter(None, [label, record.type, record.name]))


def status_changes(old: Domain | None, new: Domain, *, first: bool) -> list[str]:
    """One line per record whose status changed (every record on the first check), then the domain's."""
    before = {(r.type, r.name): r.status for r in old.records} if old and not first else {}
    lines = []
    for r in new.records:
        previous = before.get((r.type, r.name))
        if previous == r.status:
            continue
        change = f"{previous} -> {r.status}" if previous else r.status
        lines.append(f"{new.name}: {record_label(r)}: {change}" + (f" ({r.explanation})" if r.explanation else ""))
    if first or old is None or old.status != new.status:
        change = f"{old.status} -> {new.status}" if old and not first and old.status != new.status else new.status
        lines.append(f"{new.name}: domain {change}")
    return lines


class VerifyDisplay:
    """Shows a verify run while it happens, on stderr: nothing with --json or --quiet; one line per status
    change when stderr is not a terminal; on a terminal a live table (--wait) or a progress bar (--all).

    While the live region is shown the terminal does not echo what is typed: an echoed "^C" (or Enter) moves the
    cursor under the region, which then can no longer be erased whole, and one of its lines would stay."""

    def __init__(self, ui: Ui, *, waiting: bool, many: bool, clock=None) -> None:
        import time

        self.ui = ui
        self.waiting = waiting
        self.many = many
        self.clock = clock or time.monotonic
        self.live: Live | None = None
        self.progress: ProgressBar | None = None
        self._task: Any = None  # the bar's task id
        self._state: Progress | None = None
        self._seen: set[str] = set()
        self._echo: tuple[int, list] | None = None  # the terminal's settings to restore, while echo is off
        self.mode = "none"
        if not (ui.json or ui.quiet):
            if ui.stderr_tty:
                self.mode = "live" if waiting else ("bar" if many else "none")
            elif waiting:
                self.mode = "lines"

    def __enter__(self) -> VerifyDisplay:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self, count: int, state: Progress) -> None:
        """`count`: how many domains the run checks; `state` is the runner's Progress, read at each refresh."""
        self._state = state
        if self.mode == "bar":
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            console = Console(file=self.ui.stderr, no_color=not self.ui.color)
            bar = self.progress = Progress(TextColumn("Verifying"), BarColumn(), MofNCompleteColumn(),
                                           console=console, transient=True)
            self._task = bar.add_task("verify", total=count)
            self._echo_off()
            bar.start()
        elif self.mode == "live":
            from rich.console import Console
            from rich.live import Live

            console = Console(file=self.ui.stderr, no_color=not self.ui.color, highlight=False)
            live = self.live = Live(_LiveView(self), console=console, refresh_per_second=4, transient=True)
            self._echo_off()
            live.start()

    def result(self, old: Domain | None, new: Domain, state) -> None:
        first = new.id not in self._seen
        if self.waiting:  # only --wait's displays ask which domains were checked (and --wait keeps them all anyway)
            self._seen.add(new.id)
        if self.mode == "bar" and self.progress is not None:
            self.progress.advance(self._task)
        elif self.mode == "lines":
            for line in status_changes(old, new, first=first):
                self.ui.info(line)

    def stop(self) -> None:
        try:
            if self.progress is not None:
                self.progress.stop()
                self.progress = None
            if self.live is not None:
                self.live.stop()
                self.live = None
        finally:
            self._echo_on()

    def _echo_off(self) -> None:
        try:
            import termios
        except ImportError:  # not POSIX
            return
        try:
            fd = self.ui.stderr.fileno()
            if os.tcgetpgrp(fd) != os.getpgrp():  # in the background the shell owns the terminal: leave it be
                return
            saved = termios.tcgetattr(fd)
            quiet = termios.tcgetattr(fd)
            quiet[3] &= ~termios.ECHO  # local modes: no echo (Ctrl-C still sends SIGINT)
            termios.tcsetattr(fd, termios.TCSANOW, quiet)
        except (OSError, ValueError, AttributeError, termios.error):  # not a real terminal (a test's stream)
            return
        self._echo = (fd, saved)

    def _echo_on(self) -> None:
        if self._echo is None:
            return
        import termios

        fd, saved = self._echo
        self._echo = None
        try:
            if os.tcgetpgrp(fd) == os.getpgrp():  # sent to the background meanwhile: the shell restores its own
                termios.tcsetattr(fd, termios.TCSANOW, saved)
        except (OSError, termios.error):
            pass

    def render(self):
        """The live view: every record's status, and the time to the next check."""
        from rich.table import Table

        state = self._state
        table = Table(show_lines=False, expand=False, box=None)
        if state is None:  # not started
            return table
        for column in ("Domain", "Record", "Status", "Explanation"):
            table.add_column(column, overflow="fold")
        for domain in state.results.values():
            table.add_row(_escape(domain.name), "", self.ui.status_text(domain.status), "")
            for r in domain.records:
                shown = r.status if domain.id in self._seen else "checking"
                table.add_row("", _escape(record_label(r)), self.ui.status_text(shown), _escape(r.explanation or ""))
        if state.next_check_at is not None:
            wait = max(0, int(state.next_check_at - self.clock() + 0.999))
            left = max(0, int(state.deadline - self.clock())) if state.deadline else None
            footer = f"Next check in {wait}s" + (f" (gives up in {_minutes(left)})" if left is not None else "")
        else:
            footer = "Checking…"
        table.caption = footer + " · Ctrl-C stops and keeps what was checked"
        return table


class _LiveView:
    def __init__(self, display: VerifyDisplay) -> None:
        self.display = display

    def __rich__(self):
        return self.display.render()


def _minutes(seconds: int) -> str:
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"
