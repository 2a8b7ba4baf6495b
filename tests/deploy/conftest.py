"""Says in the report header which kustomize builder built the manifests (docs/deploy.md)."""

from __future__ import annotations

from tests.deploy.kustomize_support import builder_description


def pytest_report_header() -> str:
    return f"deploy tests build kustomizations with: {builder_description()}"
