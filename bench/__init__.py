"""The benchmark suite of issue 11: `python bench/run.py [--quick] [--only FIGURE ...]`.

Modules, each usable on its own:

- `netns`: the private network namespace the whole bench runs in (only a loopback interface: no packet can leave).
- `procs`: child processes: servers that die with the bench, and measured runs (wall time, rusage, a pty).
- `world`: the DNS world on loopback: BIND (one zone per benchmark domain), Unbound, dnsdist adding a delay D.
- `capture`: the queries a client sent, read from a packet capture of the loopback interface (tcpdump).
- `stores`: local stores of N domains, cached, with the records `domains create` makes.
- `deps`: what the bench installs when it is missing (Debian packages; checkdmarc in its own venv).
- `checkdmarc_driver`: runs inside checkdmarc's venv; the baseline of bulk and single verify.
- `figures`: each figure of issue 11's table, measured with its baseline in the same run.
- `report`: medians, ranges, ratios, goals and growth, printed as tables.
"""
