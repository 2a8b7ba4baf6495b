"""Small TCP helpers shared by the embedded servers and the test helpers."""

from __future__ import annotations

import errno
import socket

import psutil


class PortInUseError(RuntimeError):
    """The port an embedded server should listen on is already taken by another process."""


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that was free a moment ago (the OS picks it; a small race remains)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_in_use(host: str, port: int) -> bool:
    """True when something listens on ``host:port``.

    SO_REUSEADDR mirrors what servers set, so sockets lingering in TIME_WAIT do not count as "in use".
    Other bind failures (an address this machine lacks, a privileged port) are left for the server to
    report in its own words.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def listens_on(pid: int, port: int) -> bool:
    """True when process ``pid`` has a listening TCP socket on ``port``."""
    try:
        connections = psutil.Process(pid).net_connections(kind="tcp")
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    return any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port for c in connections)
