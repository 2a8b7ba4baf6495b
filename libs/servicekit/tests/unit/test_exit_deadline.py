"""A process whose graceful shutdown hangs still exits: the deadline armed by the first stop signal."""

from __future__ import annotations

import subprocess
import sys

HANGS = """
import time
from bookshelf_servicekit.runtime import arm_exit_deadline
arm_exit_deadline(0.3)
time.sleep(60)  # a shutdown step that never returns
"""


def test_a_hung_shutdown_ends_with_status_70_at_the_deadline() -> None:
    done = subprocess.run(
        [sys.executable, "-c", HANGS], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 70, done.stderr
    assert "graceful shutdown exceeded its deadline" in done.stdout + done.stderr
