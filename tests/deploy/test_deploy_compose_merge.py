"""The combinations of compose files the documentation gives, merged as docker compose merges them
(test_deploy_compose validates each against the Compose Specification schema), and the Bookshelf
images in them: local names, never pulled."""

from __future__ import annotations

import re

import pytest

from tests.deploy.compose_support import compose_variants, merge_compose
from tests.deploy.deploy_support import (
    COMPOSE_COMBINATIONS,
    COMPOSE_FILE,
    COMPOSE_OVERRIDES,
    DEPLOY_DOC,
    ROOT,
)

pytestmark = pytest.mark.unit

# Where the documentation shows compose commands.
DOCUMENTS = [DEPLOY_DOC, ROOT / "Makefile", COMPOSE_FILE, *COMPOSE_OVERRIDES.values()]
_COMMAND = re.compile(rf"-f {COMPOSE_FILE.name}((?:\s+-f\s+deploy/compose/[\w.-]+\.yml)*)")


def documented_combinations() -> set[tuple[str, ...]]:
    """Every ``-f docker-compose.yml -f deploy/compose/<x>.yml ...`` in the documentation."""
    names = {path.name: name for name, path in COMPOSE_OVERRIDES.items()}
    found = set()
    for document in DOCUMENTS:
        for match in _COMMAND.finditer(document.read_text()):
            found.add(tuple(names[p.rsplit("/", 1)[1]] for p in re.findall(r"\S+\.yml", match.group(1))))
    return found


def test_the_tests_merge_every_documented_combination_of_compose_files() -> None:
    assert documented_combinations() == set(COMPOSE_COMBINATIONS.values())


def test_merging_follows_the_compose_specification() -> None:
    """13-merge.md of the Compose Specification, as compose-go implements it."""
    base = {
        "services": {
            "a": {
                "image": "x:1",
                "command": ["run", "--fast"],
                "healthcheck": {"test": ["CMD", "true"], "interval": "5s"},
                "environment": ["KEEP=1", "CHANGE=old", "UNSET=3"],
                "volumes": ["data:/data", "./conf:/etc/conf:ro"],
                "ports": ["${BIND:-127.0.0.1}:80:80"],
                "depends_on": ["b"],
                "dns": ["1.1.1.1"],
            }
        }
    }
    override = {
        "services": {
            "a": {
                "command": ["run"],
                "healthcheck": {"test": ["CMD", "false"]},
                "environment": {"CHANGE": "new", "UNSET": None, "ADDED": "4"},
                "volumes": ["other:/data"],
                "ports": ["${BIND:-127.0.0.1}:80:80", "443:443"],
                "depends_on": {"c": {"condition": "service_healthy"}},
                "dns": ["8.8.8.8"],
            }
        }
    }
    merged = merge_compose(base, override)["services"]["a"]
    assert merged["command"] == ["run"]  # command, entrypoint, healthcheck.test: replaced
    assert merged["healthcheck"] == {"test": ["CMD", "false"], "interval": "5s"}
    assert merged["environment"] == {"KEEP": "1", "CHANGE": "new", "UNSET": None, "ADDED": "4"}
    assert merged["volumes"] == ["other:/data", "./conf:/etc/conf:ro"]  # unique by target
    assert merged["ports"] == ["${BIND:-127.0.0.1}:80:80", "443:443"]  # unique by ip/target/published
    assert merged["depends_on"] == {
        "b": {"condition": "service_started", "required": True},
        "c": {"condition": "service_healthy"},
    }
    assert merged["dns"] == ["1.1.1.1", "8.8.8.8"]  # other sequences: appended
    with pytest.raises(ValueError, match="cannot override"):
        merge_compose(base, {"services": {"a": {"healthcheck": "none"}}})


def test_the_combined_overrides_keep_both_kinds_of_settings() -> None:
    """prod + sasl-ssl: prod mode and secrets from prod.yml, Kafka security from sasl-ssl.yml."""
    catalog = compose_variants()["prod+sasl-ssl"]["services"]["catalog"]
    assert catalog["environment"]["BOOKSHELF_ENV"] == "prod"
    assert catalog["environment"]["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert "SUPPLIER_WEBHOOK_SECRET" in catalog["environment"]
    assert catalog["volumes"] == ["kafka-secrets:/etc/bookshelf/kafka:ro"]


@pytest.mark.parametrize("variant", list(COMPOSE_COMBINATIONS))
def test_bookshelf_images_are_local_and_never_pulled(variant: str) -> None:
    """A bare bookshelf/<svc> is a Docker Hub name this project does not own: a missed local build
    would pull someone else's image. Public images are pinned to a version."""
    for name, service in compose_variants()[variant]["services"].items():
        image = service["image"]
        if "build" in service:
            # The services' images from the root Dockerfile (SERVICE argument), the operator CLI's
            # (the status exporter) from tools/cli/Dockerfile.
            cli = service["build"].get("dockerfile") == "tools/cli/Dockerfile"
            own = "cli" if cli else service["build"]["args"]["SERVICE"]
            assert image.startswith(f"localhost/bookshelf/{own}:"), name
            assert service["pull_policy"] == "never", name
        else:
            assert not image.startswith(("bookshelf/", "localhost/")), name
            assert re.search(r":[\w.-]*\d", image), f"{name}: pin {image} to a version"
