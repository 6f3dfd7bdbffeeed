"""A process's CPU time and memory, read from /proc (never from the process itself)."""

import os

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu(pid):
    """(ns from task/*/schedstat, ns from stat's utime+stime) of the whole process.

    schedstat is exact but only covers threads alive now; stat's tick counts also keep the
    time of threads that have exited, at 1/CLK_TCK resolution. The caller compares them.
    """
    sched = 0
    task_dir = f"/proc/{pid}/task"
    for tid in os.listdir(task_dir):
        try:
            with open(f"{task_dir}/{tid}/schedstat") as f:
                sched += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # the thread exited meanwhile
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return sched, ticks * 1_000_000_000 // CLK_TCK


def cpu_delta_ns(before, after):
    """CPU ns between two `cpu()` snapshots; schedstat unless a thread died in between."""
    sched = after[0] - before[0]
    ticks = after[1] - before[1]
    slack = max(3 * 1_000_000_000 // CLK_TCK, ticks // 10)
    return ticks if ticks - sched > slack else sched


def rss_kib(pid):
    """VmRSS of the process, KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
