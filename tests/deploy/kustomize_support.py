"""``kustomize build`` for the tests: ``kubectl kustomize`` (or ``kustomize build``) when installed, else
a small builder for the kustomize features the Bookshelf kustomizations use (a test compares the two
where kubectl exists; ``builder_description`` says which one a run used). Plus the pod-spec helpers
the manifest tests share."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.deploy_support import K8S, load_yaml, load_yaml_documents


def kustomize_tool() -> list[str] | None:
    """``kubectl kustomize`` or ``kustomize build`` when installed."""
    if kubectl := shutil.which("kubectl"):
        return [kubectl, "kustomize"]
    if kustomize := shutil.which("kustomize"):
        return [kustomize, "build"]
    return None


def builder_description() -> str:
    """Which builder ``kustomize_build`` uses on this machine, with its version (for the test report)."""
    tool = kustomize_tool()
    if tool is None:
        return "kustomize_support.fallback_build (neither kubectl nor kustomize is installed)"
    command = [tool[0], "version", "--client"] if tool[1] == "kustomize" else [tool[0], "version"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    version = " ".join(result.stdout.split()) or result.stderr.strip() or "unknown version"
    return f"{' '.join(tool)} ({version})"


# The kustomizations of the repository, built once per test session by ``built``.
KUSTOMIZATIONS = {"base": K8S / "base", "dev": K8S / "overlays" / "dev"}


@cache
def built(name: str) -> tuple[dict[str, Any], ...]:
    return tuple(kustomize_build(KUSTOMIZATIONS[name]))


def of_kind(name: str, *kinds: str) -> list[dict[str, Any]]:
    return [d for d in built(name) if d["kind"] in kinds]


def key(document: Mapping[str, Any]) -> str:
    return f"{document['kind']}/{document['metadata']['name']}"


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
_SUPPORTED |= {"generatorOptions", "components"}
_COMPONENT = {"apiVersion", "kind", "resources", "images", "patches"}
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

    resources (files and directories), namespace (Namespace objects are renamed to it), images
    (newName/newTag), JSON 6902 patches (add, replace, remove, test) with a kind and name target (the
    name a regular expression matching the whole name), configMapGenerator (files, literals) with
    ``disableNameSuffixHash`` and generatorOptions annotations, components (resources, images and
    patches, applied to everything accumulated before them). Anything else raises, so a kustomization
    that outgrows it fails loudly where kubectl is missing.
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
    for component in kustomization.get("components", []):
        _apply_component(documents, (path / component).resolve())
    for patch in kustomization.get("patches", []):
        _apply_patch(documents, patch)
    for rule in kustomization.get("images", []):
        for document in documents:
            _set_images(document, rule)
    if namespace := kustomization.get("namespace"):
        for document in documents:
            if document["kind"] == "Namespace":
                document["metadata"]["name"] = namespace
            elif document["kind"] not in _CLUSTER_SCOPED:
                document["metadata"]["namespace"] = namespace
    return documents


def _apply_component(documents: list[dict[str, Any]], path: Path) -> None:
    component = load_yaml(path / "kustomization.yaml")
    if component.get("kind") != "Component" or set(component) - _COMPONENT:
        raise NotImplementedError(f"{path}: the fallback builder knows components with {sorted(_COMPONENT)}")
    for resource in component.get("resources", []):
        documents.extend(load_yaml_documents((path / resource).read_text()))
    for patch in component.get("patches", []):
        _apply_patch(documents, patch)
    for rule in component.get("images", []):
        for document in documents:
            _set_images(document, rule)


def _generated_config_maps(path: Path, kustomization: Mapping[str, Any]) -> list[dict[str, Any]]:
    generators = kustomization.get("configMapGenerator", [])
    options = kustomization.get("generatorOptions", {})
    if set(options) - {"disableNameSuffixHash", "annotations"}:
        raise NotImplementedError(f"{path}: generatorOptions {sorted(options)}")
    if generators and not options.get("disableNameSuffixHash"):
        raise NotImplementedError(f"{path}: name suffix hashes are not implemented (disableNameSuffixHash)")
    maps = []
    for generator in generators:
        data = {Path(name).name: (path / name).read_text() for name in generator.get("files", [])}
        data.update(literal.split("=", 1) for literal in generator.get("literals", []))
        metadata: dict[str, Any] = {"name": generator["name"]}
        if options.get("annotations"):
            metadata["annotations"] = dict(options["annotations"])
        maps.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data})
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
        if not re.fullmatch(target.get("name", ".*"), document["metadata"]["name"]):
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
    elif op == "test":
        if (node[int(last)] if isinstance(node, list) else node.get(last)) != operation["value"]:
            raise AssertionError(f"test {operation['path']}: not {operation['value']!r}")
    else:
        raise NotImplementedError(f"JSON patch op {op!r}")


def pod_spec(document: Mapping[str, Any]) -> dict[str, Any] | None:
    """The pod spec of a workload (Deployment, StatefulSet, Job, ...), or None."""
    spec = document.get("spec", {})
    if "jobTemplate" in spec:
        spec = spec["jobTemplate"]["spec"]
    template = spec.get("template")
    return template["spec"] if template else None


def is_bookshelf_image(image: str) -> bool:
    """A Bookshelf service image, under any registry (``<registry>/bookshelf/<service>:<tag>``)."""
    return "/bookshelf/" in f"/{image}"


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
