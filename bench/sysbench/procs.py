"""CPU seconds and memory per process of the system (psutil over the `bookshelf run` process tree).

Processes are grouped by what they are: each service (`python -m bookshelf_<name>`), the broker
(Apache Kafka), PostgreSQL (postmaster and every backend), the `bookshelf run` supervisor, and the bench
itself (this process and its children: the watcher). PostgreSQL runs as a daemon outside the tree,
so its postmaster is passed as a root of its own (``also``). A sampler thread reads every process each
``interval`` s; windows opened with ``window()`` collect CPU deltas and peaks between two moments.

Memory is reported two ways: the sum of RSS (what `ps` shows; counts memory shared between
processes, e.g. PostgreSQL's shared buffers, once per backend) and the sum of PSS (each shared page
divided among the processes that map it: the memory the system really uses).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import psutil

SERVICE_MODULES = {
    "bookshelf_catalog": "catalog",
    "bookshelf_ordering": "ordering",
    "bookshelf_inventory": "inventory",
    "bookshelf_shipping": "shipping",
    "bookshelf_storefront": "storefront",
    "bookshelf_fulfillment": "fulfillment",
    "bookshelf_observatory": "observatory",
}
SYSTEM = "system"  # the sum of every group except the bench
TREE_EVERY_S = 5.0  # new processes (PostgreSQL backends of new connections) are found this late
PSS_EVERY = 4  # PSS (smaps_rollup) on every 4th pass: 0.5 s apart, RSS peaks; 2 s apart, PSS peaks


def classify(proc: psutil.Process, root_pid: int | None) -> str:
    """The group of a process."""
    if proc.pid == root_pid:
        return "supervisor"
    try:
        cmd = proc.cmdline()
        name = proc.name()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return "other"
    joined = " ".join(cmd)
    for module, group in SERVICE_MODULES.items():
        if f"-m {module}" in joined:
            return group
    if "kafka.Kafka" in cmd:
        return "broker"
    if "postgres" in name or "postgres" in joined[:40]:
        return "postgres"
    return "other"


def pss_mb(pid: int) -> float:
    """Proportional set size from /proc/<pid>/smaps_rollup (0 where unavailable)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class Window:
    """CPU at the start and the peaks seen since."""

    cpu_start: dict[str, float]
    peak_rss: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    peak_pss: dict[str, float] = field(default_factory=lambda: defaultdict(float))


class ProcessMonitor:
    """Samples the system's process tree (and the bench's) in a thread."""

    def __init__(self, root_pid: int | None, interval: float = 0.5, *, also: Sequence[int] = ()) -> None:
        self.root_pid = root_pid
        self.system_roots = [pid for pid in (root_pid, *also) if pid]  # e.g. a daemonized postmaster
        self.interval = interval
        self.cpu: dict[int, float] = {}  # last CPU seconds of every pid seen (dead ones keep theirs)
        self.group: dict[int, str] = {}
        self.procs: dict[int, psutil.Process] = {}
        self.windows: list[Window] = []
        self._tree_at = -TREE_EVERY_S
        self._passes = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="procmon")

    def __enter__(self) -> ProcessMonitor:
        self.sample(pss=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _tree(self) -> list[psutil.Process]:
        """Every process of the system and of the bench (the tree is re-read every ``TREE_EVERY_S``)."""
        now = time.monotonic()
        if now - self._tree_at < TREE_EVERY_S:
            return list(self.procs.values())
        self._tree_at = now
        found: dict[int, psutil.Process] = {}
        for pid in [*self.system_roots, os.getpid()]:
            with contextlib.suppress(psutil.NoSuchProcess):
                root = self.procs.get(pid) or psutil.Process(pid)
                for proc in [root, *root.children(recursive=True)]:
                    if pid == os.getpid() and proc.pid not in found:
                        self.group.setdefault(proc.pid, "bench")
                    found.setdefault(proc.pid, self.procs.get(proc.pid) or proc)
        for pid, proc in found.items():
            if pid not in self.group:
                self.group[pid] = classify(proc, self.root_pid)
        self.procs = found
        return list(found.values())

    def sample(self, *, pss: bool | None = None) -> dict[str, tuple[float, float]]:
        """One pass: CPU per pid, current (RSS, PSS) per group; updates every open window. PSS is
        read every ``PSS_EVERY``-th pass (or when ``pss`` says so): it is the expensive part."""
        self._passes += 1
        with_pss = pss if pss is not None else self._passes % PSS_EVERY == 1
        mem: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for proc in self._tree():
            pid = proc.pid
            try:
                with proc.oneshot():
                    times = proc.cpu_times()
                    rss = proc.memory_info().rss / 2**20
            except psutil.NoSuchProcess:
                continue
            group = self.group[pid]
            with self._lock:
                self.cpu[pid] = times.user + times.system
            mem[group][0] += rss
            mem[group][1] += pss_mb(pid) if with_pss else 0.0
        mem[SYSTEM] = [sum(v[i] for g, v in mem.items() if g != "bench") for i in (0, 1)]
        with self._lock:
            for window in self.windows:
                for group, (rss, pss_now) in mem.items():
                    window.peak_rss[group] = max(window.peak_rss[group], rss)
                    window.peak_pss[group] = max(window.peak_pss[group], pss_now)
        return {g: (v[0], v[1]) for g, v in mem.items()}

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            with contextlib.suppress(Exception):  # a process vanishing mid-read must not end sampling
                self.sample()

    def cpu_by_group(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        with self._lock:
            for pid, seconds in self.cpu.items():
                out[self.group.get(pid, "other")] += seconds
        out[SYSTEM] = sum(v for g, v in out.items() if g != "bench")
        return dict(out)

    def window(self) -> Window:
        """Start measuring CPU and peaks from now."""
        self.sample(pss=True)
        window = Window(self.cpu_by_group())
        with self._lock:
            self.windows.append(window)
        return window

    def close(self, window: Window) -> dict[str, dict[str, float]]:
        """CPU seconds, peak RSS and peak PSS (MiB) per group since ``window()``."""
        self.sample(pss=True)
        with self._lock:
            self.windows.remove(window)
        now = self.cpu_by_group()
        return {
            "cpu_s": {g: round(now[g] - window.cpu_start.get(g, 0.0), 2) for g in sorted(now)},
            "peak_rss_mb": {g: round(v, 1) for g, v in sorted(window.peak_rss.items())},
            "peak_pss_mb": {g: round(v, 1) for g, v in sorted(window.peak_pss.items())},
        }
