"""Shared helpers of the deployment tests: what can be checked without a Docker engine or a cluster.

- the deployables (from the CLI's service table, the one list ``bookshelf run`` uses too);
- YAML loading (merge keys resolved, as Compose does);
- the environment variables each service reads, collected from its pydantic-settings classes;
- Dockerfile instructions by build stage;
- the workspace members a package needs, from ``uv.lock``.

Compose merging and interpolation are in ``compose_support``, ``kustomize build`` in
``kustomize_support``.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from bookshelf_cli.services import SERVICES, ServiceSpec
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
COMPOSE_OVERRIDES = {
    "prod": ROOT / "deploy" / "compose" / "prod.yml",
    "sasl-ssl": ROOT / "deploy" / "compose" / "sasl-ssl.yml",
}
# Every combination of compose files the documentation gives (overrides in -f order after the base
# file); test_deploy_compose checks the documentation names no other.
COMPOSE_COMBINATIONS: dict[str, tuple[str, ...]] = {
    "base": (),
    "prod": ("prod",),
    "sasl-ssl": ("sasl-ssl",),
    "prod+sasl-ssl": ("prod", "sasl-ssl"),
}
K8S = ROOT / "deploy" / "k8s"
DOCKERFILE = ROOT / "Dockerfile"  # every service image; build arguments name the service
ENV_EXAMPLE = ROOT / ".env.example"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"

# The versions docs/deploy.md states ("Versions"), checked against the manifests and the docs.
KAFKA_VERSION = "4.3.1"  # the newest Apache Kafka the newest Strimzi release (1.2.0) runs
KAFKA_METADATA_VERSION = "4.3-IV0"
STRIMZI_RELEASE = "1.2.0"
CLOUDNATIVE_PG_RELEASE = "1.30.0"
# The Prometheus Operator whose CRDs the monitoring component is validated against (monitoring.coreos.com/v1).
PROMETHEUS_OPERATOR_RELEASE = "0.93.0"
# Kubernetes minors both operators support (Strimzi 1.2: 1.30+; CloudNativePG 1.30: 1.34-1.36): the
# manifests are validated against the schemas of each.
KUBERNETES_MINORS = ("1.34", "1.35", "1.36")


# ---------------------------------------------------------------- deployables


@dataclass(frozen=True)
class Deployable:
    """One service image: its CLI spec plus where its code and Dockerfile live."""

    spec: ServiceSpec

    @property
    def name(self) -> str:
        """Compose service and Kubernetes workload name (``storefront-query``)."""
        return self.spec.name

    @property
    def folder(self) -> Path:
        return ROOT / "services" / self.spec.name

    @property
    def distribution(self) -> str:
        return f"bookshelf-{self.spec.name}"

    @property
    def build_args(self) -> dict[str, str]:
        """The build arguments of the one Dockerfile that make it this service's image."""
        spec = self.spec
        return {
            "SERVICE": spec.name,
            "MODULE": spec.module,
            "ENV_PREFIX": spec.env_prefix,
            "PORT": str(spec.port),
        }

    def stages(self) -> list[list[tuple[str, str]]]:
        """The Dockerfile's instructions by stage, with this service's build arguments filled in."""
        return stages(DOCKERFILE, self.build_args)


DEPLOYABLES: tuple[Deployable, ...] = tuple(Deployable(spec) for spec in SERVICES)


def deployable(name: str) -> Deployable:
    """The deployable called ``name``."""
    return next(d for d in DEPLOYABLES if d.name == name)


# ---------------------------------------------------------------- YAML


def load_yaml(path: Path) -> Any:
    """One YAML document (merge keys ``<<`` resolved, as Compose does)."""
    return yaml.safe_load(path.read_text())


def load_yaml_documents(text: str) -> list[dict[str, Any]]:
    """Every non-empty document of a YAML stream."""
    return [doc for doc in yaml.safe_load_all(text) if doc]


# ---------------------------------------------------------------- environment variables


def settings_classes(module_name: str) -> list[type[BaseSettings]]:
    """The pydantic-settings classes defined in ``module_name``."""
    module = importlib.import_module(module_name)
    return [
        cls
        for cls in vars(module).values()
        if inspect.isclass(cls) and issubclass(cls, BaseSettings) and cls.__module__ == module.__name__
    ]


def variables_of(cls: type[BaseSettings]) -> set[str]:
    """The environment variables a settings class reads (aliases, or env_prefix + field name)."""
    prefix = str(cls.model_config.get("env_prefix", "") or "")
    names: set[str] = set()
    for field_name, field in cls.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, str):
            names.add(alias.upper())
        elif isinstance(alias, AliasChoices):
            names.update(choice.upper() for choice in alias.choices if isinstance(choice, str))
        elif field.alias:
            names.add(field.alias.upper())
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


def service_variables(item: Deployable) -> set[str]:
    """Every variable ``item`` reads: its settings classes, Kafka's, and raw reads its config names."""
    from bookshelf_messaging.settings import KafkaSettings

    config = f"{item.spec.module}.config"
    classes = settings_classes(config)
    if not classes:
        raise AssertionError(f"{config} defines no pydantic-settings class")
    names = set().union(*(variables_of(cls) for cls in classes)) | variables_of(KafkaSettings)
    # The observatory reads each watched service's <PREFIX>_DATABASE_URL with os.environ (outbox
    # backlog): those services that have a database.
    watched = getattr(importlib.import_module(config), "WATCHED", ())
    with_database = {d.name for d in DEPLOYABLES if d.spec.database}
    names |= {f"{prefix}_DATABASE_URL" for name, prefix, *_ in watched if name in with_database}
    # The saga worker's web view reads the mode and the staff token itself (entrypoints/web.py).
    with contextlib.suppress(ModuleNotFoundError):
        web = importlib.import_module(f"{item.spec.module}.entrypoints.web")
        names |= set(getattr(web, "READS_ENVIRONMENT", ()))
    return names


def env_example_variables() -> set[str]:
    """Variables named in ``.env.example`` (``VAR=...`` or commented ``# VAR=...``)."""
    pattern = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)
    return set(pattern.findall(ENV_EXAMPLE.read_text()))


# ---------------------------------------------------------------- Dockerfiles


def instructions(path: Path, build_args: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped; ``${NAME}`` of each
    of ``build_args`` replaced by its value, as ``docker build --build-arg NAME=value`` does."""
    joined = re.sub(r"\\\n", " ", path.read_text())
    for name, value in (build_args or {}).items():
        joined = joined.replace("${" + name + "}", value)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def stages(path: Path, build_args: Mapping[str, str] | None = None) -> list[list[tuple[str, str]]]:
    """Instructions grouped by build stage (each FROM starts one)."""
    groups: list[list[tuple[str, str]]] = []
    for instruction in instructions(path, build_args):
        if instruction[0] == "FROM":
            groups.append([])
        if groups:
            groups[-1].append(instruction)
    return groups


# ---------------------------------------------------------------- uv.lock


def workspace_closure(distribution: str) -> set[str]:
    """Folders of the workspace members ``distribution`` needs (itself included), from uv.lock."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    packages = {package["name"]: package for package in lock["package"]}
    members = {
        name: package["source"]["editable"]
        for name, package in packages.items()
        if "editable" in package.get("source", {})
    }
    needed: set[str] = set()
    pending = [distribution]
    while pending:
        name = pending.pop()
        if name in needed or name not in members:
            continue
        needed.add(name)
        pending.extend(dep["name"] for dep in packages[name].get("dependencies", []))
    return {members[name] for name in needed}
