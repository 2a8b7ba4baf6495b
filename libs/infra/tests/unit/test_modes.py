"""Which infrastructure the fixtures choose: environment first, then Docker, then embedded."""

from __future__ import annotations

import pytest
from bookshelf_infra import _providers


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (_providers.KAFKA_ENV, _providers.POSTGRES_ENV, _providers.FORCE_ENV):
        monkeypatch.delenv(name, raising=False)


def test_environment_variables_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker:9092")
    monkeypatch.setenv("TEST_POSTGRES_URL", "postgresql://postgres:secret@db:5432/postgres")
    assert _providers.kafka_mode() == "env"
    assert _providers.postgres_mode() == "env"
    header = _providers.describe()
    assert "kafka=env KAFKA_BOOTSTRAP_SERVERS" in header
    assert "postgres=env TEST_POSTGRES_URL (db:5432)" in header
    assert "secret" not in header


def test_docker_decides_when_no_variable_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_providers, "docker_answers", lambda: True)
    assert _providers.kafka_mode() == "testcontainers"
    monkeypatch.setattr(_providers, "docker_answers", lambda: False)
    assert _providers.postgres_mode() == "local"


def test_bookshelf_test_infra_skips_the_docker_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    def probe() -> bool:
        raise AssertionError("Docker must not be probed")

    monkeypatch.setattr(_providers, "docker_answers", probe)
    monkeypatch.setenv("BOOKSHELF_TEST_INFRA", "local")
    assert _providers.kafka_mode() == "local"
    monkeypatch.setenv("BOOKSHELF_TEST_INFRA", "podman")
    with pytest.raises(
        ValueError, match="BOOKSHELF_TEST_INFRA='podman': expected 'local' or 'testcontainers'"
    ):
        _providers.postgres_mode()
