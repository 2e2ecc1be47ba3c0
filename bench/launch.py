"""Run one measured command from a small process: `python -S -E bench/launch.py RESULT ARGV...`.

Why: a child's peak RSS (wait4's ru_maxrss) includes the memory of the process it was forked from, counted up to
its exec, whatever the spawn call (fork, vfork, posix_spawn). The bench's own process grows to hundreds of MB (a
10,000-zone world, parsed captures), so a command forked from it would report that as its own peak. Forked from
this launcher (a few MB: no site, no imports but os, sys, time), it reports its own.

The launcher measures the command itself, from just before the fork to the exit, and writes its exit code, times
and rusage as JSON to RESULT; the command inherits stdin, stdout and stderr. If the launcher is killed (the bench's
timeout, Ctrl-C), the command is killed too (PR_SET_PDEATHSIG). Exit status: the command's.
"""

import os
import sys
import time


def main() -> int:
    result, argv = sys.argv[1], sys.argv[2:]
    started = time.time()
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
            if os.getppid() == 1:  # the launcher died before that took effect
                os._exit(137)
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    with open(result, "w") as handle:
        handle.write('{"code": %d, "started": %r, "wall": %r, "user": %r, "system": %r, "maxrss_kb": %d}'
                     % (code, started, wall, usage.ru_utime, usage.ru_stime, usage.ru_maxrss))
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
