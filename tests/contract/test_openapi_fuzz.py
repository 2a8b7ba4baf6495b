"""Property-based API tests: Schemathesis requests against every service's OpenAPI, never a 5xx.

Each FastAPI service runs in-process on a fresh, migrated PostgreSQL database (the observatory also
on the test broker). Every operation gets requests that fit its schema (positive) and requests that
break it (negative); every request carries the admin token so STAFF routes are exercised past
authentication, and about half of the path ids name a row that exists. Any 5xx fails, listing each
operation's first failing request (``FUZZ_SHRINK=1`` minimises it first, which can take minutes).
Examples are few per operation (``FUZZ_EXAMPLES``, default 25 per mode) to keep the module near a
minute on two cores; raise it locally to search harder.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from bookshelf_infra.testing import TestDatabase
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.contract.harness import SERVICES, RunningService, running
from tests.contract.hostile import HOSTILE
from tests.contract.seeds import SEEDS
from tests.contract.wire import request_of

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
SHRINK = os.environ.get("FUZZ_SHRINK", "") not in ("", "0")  # minimise failing requests (slow)
# Operational endpoints are shared plumbing with no input; the fuzzing budget goes to the API.
SKIPPED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def _settings() -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,  # no saved examples: the runs are derandomized anyway
        derandomize=True,  # the same requests on every run: a failure reproduces
        # Shrinking a failure took minutes per operation; the failing request is reported as found.
        phases=[Phase.explicit, Phase.generate, *([Phase.shrink] if SHRINK else [])],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )


def operations(service: RunningService) -> Iterator[Any]:
    """Every API operation of the service's OpenAPI document (the operational endpoints left out)."""
    schema = schemathesis.openapi.from_dict(service.app.openapi())
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path not in SKIPPED_PATHS:
            yield operation


def fuzz(
    service: RunningService,
    operation: Any,
    mode: GenerationMode,
    ids: dict[str, list[str]],
    statuses: Counter[int],
) -> None:
    """Send generated requests of one operation; AssertionError on the first 5xx (after shrinking)."""

    @_settings()
    @given(case=operation.as_strategy(generation_mode=mode), known=st.booleans(), pick=st.integers(0, 9))
    def check(case: Any, known: bool, pick: int) -> None:
        for name in case.path_parameters or {}:
            if known and ids.get(name):
                case.path_parameters[name] = ids[name][pick % len(ids[name])]
        method, path, kwargs = request_of(case)
        response = service.call(method, path, **kwargs)
        statuses[response.status_code] += 1
        assert response.status_code < 500, (
            f"{method} {path} {kwargs} -> {response.status_code} {response.text[:500]}"
        )

    try:
        check()
    except hypothesis.errors.Unsatisfiable:
        # No parameters and no body: there is nothing to break, so negative mode has no case at all.
        if mode is not GenerationMode.NEGATIVE:
            raise


def fuzz_every_operation(service: RunningService, ids: dict[str, list[str]]) -> list[str]:
    """Fuzz each operation in both modes; the 5xx found, one line each (status counts are printed)."""
    failures = []
    for operation in operations(service):
        label = f"{operation.method.upper()} {operation.path}"
        statuses: Counter[int] = Counter()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                fuzz(service, operation, mode, ids, statuses)
            except AssertionError as exc:
                failures.append(f"{label} ({mode.value}): {exc}")
        print(f"{service.name} {label}: {dict(sorted(statuses.items()))}")
        assert statuses, f"no request was sent to {label}"
    return failures


def send_hostile(service: RunningService) -> list[str]:
    """The fixed regression requests of ``hostile.py``; the 5xx answered, one line each."""
    failures = []
    for method, path, kwargs in HOSTILE.get(service.name, []):
        response = service.call(method, path, **kwargs)
        if response.status_code >= 500:
            failures.append(f"{method} {path} {kwargs} -> {response.status_code} {response.text[:300]}")
    return failures


@pytest.mark.parametrize("name", list(SERVICES))
def test_no_server_error_for_generated_requests(
    name: str, database: TestDatabase, request: pytest.FixtureRequest
) -> None:
    spec = SERVICES[name]
    kafka = request.getfixturevalue("kafka_bootstrap") if spec.needs_kafka else None
    with running(name, database.url, kafka) as service:
        seed: Callable[[RunningService], dict[str, list[str]]] = SEEDS.get(name, lambda _: {})
        failures = fuzz_every_operation(service, seed(service)) + send_hostile(service)
    assert not failures, "server errors:\n" + "\n".join(failures)
