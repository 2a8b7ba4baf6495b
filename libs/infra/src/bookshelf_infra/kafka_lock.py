"""Write ``kafka.lock.json``: Maven resolves the broker's runtime class path, this records it.

``python -m bookshelf_infra.kafka_lock [KAFKA_VERSION]`` (``make kafka-lock``) needs ``mvn``. It writes
a throwaway POM whose dependencies are the roots below, runs ``mvn dependency:list`` with the runtime
scope, and records each resolved jar's coordinates, repository path and SHA-256. Maven checks the
checksums the repository publishes while it downloads; the lock then pins the exact bytes for every
later fetch (``bookshelf_infra.kafka_dist``), which needs neither Maven nor a resolver.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from .kafka_dist import LOCK_PATH

DEFAULT_VERSION = "4.3.1"
REPOSITORY = "https://repo1.maven.org/maven2"
# The broker (core, with its own dependencies) and an SLF4J binding so the broker's log is written.
LOG4J_VERSION = "2.25.5"
_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>bookshelf</groupId><artifactId>local-kafka</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>
      <version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId>
      <version>{log4j}</version></dependency>
  </dependencies>
</project>
"""


def resolve(kafka_version: str) -> list[dict[str, str]]:
    """Let Maven resolve the runtime class path; return one lock entry per jar."""
    repo = Path.home() / ".m2" / "repository"
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "pom.xml").write_text(_POM.format(kafka=kafka_version, log4j=LOG4J_VERSION))
        listing = Path(tmp, "deps.txt")
        subprocess.run(
            ["mvn", "-q", "-B", "dependency:list", "-DincludeScope=runtime", "-DoutputAbsoluteArtifactFilename=true",
             f"-DoutputFile={listing}"],
            cwd=tmp,
            check=True,
        )  # fmt: skip
        lines = listing.read_text().splitlines()
    entries = []
    for line in lines:
        parts = line.strip().split(":")
        if len(parts) < 6 or parts[2] != "jar":
            continue
        group, artifact, _, version, _scope, file = parts[:6]
        jar = Path(file)
        entries.append(
            {
                "coordinates": f"{group}:{artifact}:{version}",
                "path": jar.relative_to(repo).as_posix(),
                "sha256": hashlib.sha256(jar.read_bytes()).hexdigest(),
            }
        )
    return sorted(entries, key=lambda e: e["coordinates"])


def main(argv: list[str]) -> int:
    """Resolve and write the lock for the given (or default) Kafka version."""
    version = argv[0] if argv else DEFAULT_VERSION
    lock = {"kafka_version": version, "repository": REPOSITORY, "artifacts": resolve(version)}
    LOCK_PATH.write_text(json.dumps(lock, indent=1) + "\n")
    print(f"wrote {LOCK_PATH} ({len(lock['artifacts'])} jars, Kafka {version})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
