"""ServiceSettings: prefixes, shared variables, dev defaults and refusal outside dev."""

from __future__ import annotations

from typing import ClassVar

import pytest
from bookshelf_servicekit.settings import DEV_ADMIN_TOKEN, InsecureSettingsError, ServiceSettings
from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_")
    service_name: ClassVar[str] = "demo"
    DEV_SECRETS = {**ServiceSettings.DEV_SECRETS, "hook_secret": ("DEMO_HOOK_SECRET", "dev-hook")}

    port: int = 8123
    hook_secret: SecretStr | None = Field(default=None, validation_alias="DEMO_HOOK_SECRET")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "BOOKSHELF_ENV",
        "BOOKSHELF_ADMIN_TOKEN",
        "DEMO_HOOK_SECRET",
        "DEMO_PORT",
        "DEMO_DATABASE_URL",
    ):
        monkeypatch.delenv(name, raising=False)


REAL = "a-real-admin-token-of-32-characters!"
REAL_HOOK = "a-real-hook-secret-of-32-characters!"


def test_prod_is_the_default_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """A deployment that forgets BOOKSHELF_ENV runs in prod mode and refuses the dev secrets."""
    with pytest.raises(InsecureSettingsError, match="BOOKSHELF_ADMIN_TOKEN is not set"):
        DemoSettings()
    monkeypatch.setenv("BOOKSHELF_ADMIN_TOKEN", REAL)
    monkeypatch.setenv("DEMO_HOOK_SECRET", REAL_HOOK)
    assert DemoSettings().env == "prod"


def test_dev_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOKSHELF_ENV", "dev")
    settings = DemoSettings()
    assert settings.env == "dev"
    assert settings.secret("admin_token") == DEV_ADMIN_TOKEN
    assert settings.secret("hook_secret") == "dev-hook"
    assert settings.port == 8123
    assert settings.host == "127.0.0.1"
    assert settings.role == "all"
    assert settings.database_url == "postgresql+asyncpg://postgres@127.0.0.1:5433/demo"


def test_prefixed_and_shared_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_PORT", "9001")
    monkeypatch.setenv("DEMO_DATABASE_URL", "postgresql+asyncpg://u@db/demo")
    monkeypatch.setenv("BOOKSHELF_ADMIN_TOKEN", "tok")
    monkeypatch.setenv("BOOKSHELF_ENV", "dev")
    monkeypatch.setenv("ENV", "prod")  # an unrelated variable must not switch modes
    settings = DemoSettings()
    assert settings.port == 9001
    assert settings.database_url == "postgresql+asyncpg://u@db/demo"
    assert settings.secret("admin_token") == "tok"
    assert settings.env == "dev"


def test_prod_refuses_missing_admin_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOKSHELF_ENV", "prod")
    with pytest.raises(InsecureSettingsError, match="BOOKSHELF_ADMIN_TOKEN is not set"):
        DemoSettings()


def test_prod_refuses_dev_admin_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOKSHELF_ENV", "prod")
    monkeypatch.setenv("BOOKSHELF_ADMIN_TOKEN", DEV_ADMIN_TOKEN)
    with pytest.raises(InsecureSettingsError, match="BOOKSHELF_ADMIN_TOKEN still has its dev value"):
        DemoSettings()


def test_prod_refuses_a_service_dev_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOKSHELF_ENV", "prod")
    monkeypatch.setenv("BOOKSHELF_ADMIN_TOKEN", REAL)
    monkeypatch.setenv("DEMO_HOOK_SECRET", "dev-hook")
    with pytest.raises(InsecureSettingsError, match="DEMO_HOOK_SECRET"):
        DemoSettings()


def test_prod_with_real_secrets_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOKSHELF_ENV", "prod")
    monkeypatch.setenv("BOOKSHELF_ADMIN_TOKEN", REAL)
    monkeypatch.setenv("DEMO_HOOK_SECRET", REAL_HOOK)
    settings = DemoSettings(port=1)
    assert not settings.is_dev
    assert settings.secret("hook_secret") == REAL_HOOK
    assert settings.port == 1


@pytest.mark.parametrize("variable", ["BOOKSHELF_ADMIN_TOKEN", "DEMO_HOOK_SECRET"])
def test_prod_refuses_a_short_secret(variable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOKSHELF_ENV", "prod")
    monkeypatch.setenv("BOOKSHELF_ADMIN_TOKEN", REAL)
    monkeypatch.setenv("DEMO_HOOK_SECRET", REAL_HOOK)
    monkeypatch.setenv(variable, "x" * 31)
    with pytest.raises(InsecureSettingsError, match=f"{variable} is 31 characters long.*at least 32"):
        DemoSettings()
