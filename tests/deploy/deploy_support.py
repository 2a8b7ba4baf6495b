"""Shared helpers of the deployment tests: what can be checked without a Docker engine or a cluster.

- the deployables (from the CLI's service table, the one list ``bookshelf run`` uses too);
- Compose files: loading (YAML merge keys), override merging and ``${VAR}`` interpolation as Compose
  does them, for the subset of rules these files use;
- the environment variables each service reads, collected from its pydantic-settings classes;
- ``kustomize build``: ``kubectl kustomize`` (or ``kustomize``) when installed, else a small builder
  for the kustomize features the overlays use (a test compares the two where kubectl exists);
- Dockerfile instructions by build stage;
- the workspace members a package needs, from ``uv.lock``.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator, Mapping
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
K8S = ROOT / "deploy" / "k8s"
ENV_EXAMPLE = ROOT / ".env.example"


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
    def dockerfile(self) -> Path:
        return self.folder / "Dockerfile"


DEPLOYABLES: tuple[Deployable, ...] = tuple(Deployable(spec) for spec in SERVICES)


def deployable(name: str) -> Deployable:
    """The deployable called ``name``."""
    return next(d for d in DEPLOYABLES if d.name == name)


# ---------------------------------------------------------------- YAML and Compose


def load_yaml(path: Path) -> Any:
    """One YAML document (merge keys ``<<`` resolved, as Compose does)."""
    return yaml.safe_load(path.read_text())


def load_yaml_documents(text: str) -> list[dict[str, Any]]:
    """Every non-empty document of a YAML stream."""
    return [doc for doc in yaml.safe_load_all(text) if doc]


_CONCATENATED = {"ports", "volumes", "expose", "dns", "extra_hosts", "profiles"}


def merge_compose(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``docker compose -f base -f override``: mappings merge, these lists append, the rest replaces."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            merged[key] = merge_compose(current, value)
        elif isinstance(current, list) and isinstance(value, list) and key in _CONCATENATED:
            merged[key] = current + [item for item in value if item not in current]
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def compose_variants() -> dict[str, dict[str, Any]]:
    """The base file alone and merged with each override, not interpolated."""
    base = load_yaml(COMPOSE_FILE)
    variants = {"base": base}
    for name, path in COMPOSE_OVERRIDES.items():
        variants[name] = merge_compose(base, load_yaml(path))
    return variants


_INTERPOLATION = re.compile(r"\$(?:\$|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})")


class MissingVariable(LookupError):
    """``${VAR:?message}`` (or ``${VAR?message}``) met an unset variable."""


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Compose's ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?err}``, ``$$``."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        name, op, arg = match.group("name"), match.group("op"), match.group("arg") or ""
        if name is None:
            return "$"
        current = env.get(name)
        unset = current is None or (op is not None and op.startswith(":") and current == "")
        if op in (":-", "-"):
            return arg if unset else str(current)
        if op in (":?", "?"):
            if unset:
                raise MissingVariable(f"{name}: {arg}")
            return str(current)
        return "" if current is None else current

    return _INTERPOLATION.sub(replace, value)


def interpolated_variables(value: Any) -> Iterator[tuple[str, str | None, str]]:
    """Every ``(name, operator, argument)`` interpolated anywhere in ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from interpolated_variables(key)
            yield from interpolated_variables(item)
    elif isinstance(value, list):
        for item in value:
            yield from interpolated_variables(item)
    elif isinstance(value, str):
        for match in _INTERPOLATION.finditer(value):
            if match.group("name"):
                yield match.group("name"), match.group("op"), match.group("arg") or ""


def is_one_shot(service: Mapping[str, Any]) -> bool:
    """A job (topics, databases, migrations): runs once; long-running services restart."""
    return service.get("restart") == "no"


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
    return names


def env_example_variables() -> set[str]:
    """Variables named in ``.env.example`` (``VAR=...`` or commented ``# VAR=...``)."""
    pattern = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)
    return set(pattern.findall(ENV_EXAMPLE.read_text()))


# ---------------------------------------------------------------- Dockerfiles


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def stages(path: Path) -> list[list[tuple[str, str]]]:
    """Instructions grouped by build stage (each FROM starts one)."""
    groups: list[list[tuple[str, str]]] = []
    for instruction in instructions(path):
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


# ---------------------------------------------------------------- kustomize


def kustomize_tool() -> list[str] | None:
    """``kubectl kustomize`` or ``kustomize build`` when installed."""
    if kubectl := shutil.which("kubectl"):
        return [kubectl, "kustomize"]
    if kustomize := shutil.which("kustomize"):
        return [kustomize, "build"]
    return None


def kustomize_build(path: Path) -> list[dict[str, Any]]:
    """The built resources of a kustomization (the real tool if installed, else the fallback)."""
    tool = kustomize_tool()
    if tool is None:
        return fallback_build(path)
    result = subprocess.run([*tool, str(path)], capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(tool)} {path} failed:\n{result.stderr}")
    return load_yaml_documents(result.stdout)


_SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "images", "patches", "configMapGenerator"}
_SUPPORTED |= {"generatorOptions"}
_CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PersistentVolume",
    "StorageClass",
    "PriorityClass",
}


def fallback_build(path: Path) -> list[dict[str, Any]]:
    """``kustomize build`` for the features the Bookshelf kustomizations use, and nothing more.

    resources (files and directories), namespace, images (newName/newTag), JSON 6902 patches with a
    kind/name target, configMapGenerator (files, literals) with ``disableNameSuffixHash``. Anything
    else raises, so a kustomization that outgrows it fails loudly where kubectl is missing.
    """
    kustomization = load_yaml(path / "kustomization.yaml")
    unsupported = set(kustomization) - _SUPPORTED
    if unsupported:
        raise NotImplementedError(f"{path}: the fallback builder does not know {sorted(unsupported)}")
    documents: list[dict[str, Any]] = []
    for resource in kustomization.get("resources", []):
        target = (path / resource).resolve()
        if target.is_dir():
            documents.extend(fallback_build(target))
        else:
            documents.extend(load_yaml_documents(target.read_text()))
    documents.extend(_generated_config_maps(path, kustomization))
    for patch in kustomization.get("patches", []):
        _apply_patch(documents, patch)
    for rule in kustomization.get("images", []):
        for document in documents:
            _set_images(document, rule)
    if namespace := kustomization.get("namespace"):
        for document in documents:
            if document["kind"] not in _CLUSTER_SCOPED:
                document["metadata"]["namespace"] = namespace
    return documents


def _generated_config_maps(path: Path, kustomization: Mapping[str, Any]) -> list[dict[str, Any]]:
    generators = kustomization.get("configMapGenerator", [])
    if generators and not kustomization.get("generatorOptions", {}).get("disableNameSuffixHash"):
        raise NotImplementedError(f"{path}: name suffix hashes are not implemented (disableNameSuffixHash)")
    maps = []
    for generator in generators:
        data = {Path(name).name: (path / name).read_text() for name in generator.get("files", [])}
        data.update(literal.split("=", 1) for literal in generator.get("literals", []))
        maps.append(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]}, "data": data}
        )
    return maps


def _apply_patch(documents: list[dict[str, Any]], patch: Mapping[str, Any]) -> None:
    target = patch.get("target", {})
    if set(target) - {"kind", "name"}:
        raise NotImplementedError(f"patch target {target}: only kind and name are implemented")
    operations = yaml.safe_load(patch["patch"])
    if not isinstance(operations, list):
        raise NotImplementedError("only JSON 6902 patches (a list of operations) are implemented")
    for document in documents:
        if target.get("kind", document["kind"]) != document["kind"]:
            continue
        if target.get("name", document["metadata"]["name"]) != document["metadata"]["name"]:
            continue
        for operation in operations:
            _json_patch(document, operation)


def _json_patch(document: dict[str, Any], operation: Mapping[str, Any]) -> None:
    *parents, last = [part.replace("~1", "/").replace("~0", "~") for part in operation["path"].split("/")[1:]]
    node: Any = document
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    op = operation["op"]
    if op in ("add", "replace") and isinstance(node, list):
        index = len(node) if last == "-" else int(last)
        if op == "add":
            node.insert(index, copy.deepcopy(operation["value"]))
        else:
            node[index] = copy.deepcopy(operation["value"])
    elif op in ("add", "replace"):
        if op == "replace" and last not in node:
            raise KeyError(f"replace {operation['path']}: no such field")
        node[last] = copy.deepcopy(operation["value"])
    elif op == "remove":
        del node[int(last) if isinstance(node, list) else last]
    else:
        raise NotImplementedError(f"JSON patch op {op!r}")


def pod_spec(document: Mapping[str, Any]) -> dict[str, Any] | None:
    """The pod spec of a workload (Deployment, StatefulSet, Job, ...), or None."""
    spec = document.get("spec", {})
    if "jobTemplate" in spec:
        spec = spec["jobTemplate"]["spec"]
    template = spec.get("template")
    return template["spec"] if template else None


def containers(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Init and regular containers of a workload."""
    spec = pod_spec(document)
    if spec is None:
        return []
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def _set_images(document: dict[str, Any], rule: Mapping[str, Any]) -> None:
    for container in containers(document):
        image = container["image"]
        name, tag = _split_image(image)
        if name != rule["name"]:
            continue
        new_name = rule.get("newName", name)
        container["image"] = f"{new_name}:{rule['newTag']}" if "newTag" in rule else f"{new_name}{tag}"


def _split_image(image: str) -> tuple[str, str]:
    """``registry/name:tag`` -> (``registry/name``, ``:tag``); the tag may be empty."""
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        return image[:colon], image[colon:]
    return image, ""
