# syntax=docker/dockerfile:1.7
# Every Bookshelf service image: `python -m <MODULE>` on <PORT>; the build arguments name the service.
#
# Build from the repository root (the context holds the uv workspace), e.g. the catalog:
#   docker build --build-arg SERVICE=catalog --build-arg MODULE=bookshelf_catalog \
#     --build-arg ENV_PREFIX=CATALOG --build-arg PORT=8001 -t bookshelf/catalog:dev .
# Run:  docker run bookshelf/catalog:dev [--role all|api|relay|consumers]
# docker-compose.yml passes the arguments of each service (`make images` builds them all).
#
# Builder: uv (pinned, from PyPI) installs the locked, non-dev dependencies of bookshelf-<SERVICE> and the
# workspace members it needs into /app/.venv as regular (non-editable) packages. Runtime: the same
# Python image with only that venv, a non-root user and a health check.

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ARG UV_VERSION=0.13.9
ARG SERVICE
RUN pip install --no-cache-dir "uv==${UV_VERSION}"
# faust-streaming (fulfillment) publishes no linux/arm64 wheel: on arm64 its Cython extensions build
# from the sdist, so the builder gets a C compiler there (the runtime stage never has one).
# hadolint ignore=DL3008
RUN if [ "$(dpkg --print-architecture)" != "amd64" ]; then \
        apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
        && rm -rf /var/lib/apt/lists/*; \
    fi
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src

# 1. Third-party dependencies only: this layer changes with uv.lock, not with source edits.
COPY pyproject.toml uv.lock ./
COPY libs/contracts/pyproject.toml libs/contracts/
COPY libs/messaging/pyproject.toml libs/messaging/
COPY libs/servicekit/pyproject.toml libs/servicekit/
COPY services/${SERVICE}/pyproject.toml services/${SERVICE}/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --no-install-workspace --package bookshelf-${SERVICE}

# 2. The workspace members every service needs (its dependency closure in uv.lock), then the service.
COPY libs/contracts/ libs/contracts/
COPY libs/messaging/ libs/messaging/
COPY libs/servicekit/ libs/servicekit/
COPY services/${SERVICE}/ services/${SERVICE}/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package bookshelf-${SERVICE}


FROM ${PYTHON_IMAGE} AS runtime
ARG SERVICE
ARG MODULE
ARG ENV_PREFIX
ARG PORT
LABEL org.opencontainers.image.title="bookshelf-${SERVICE}" \
      org.opencontainers.image.description="Bookshelf ${SERVICE}: python -m ${MODULE} on port ${PORT}"
RUN groupadd --system --gid 10001 bookshelf \
    && useradd --system --uid 10001 --gid bookshelf --no-create-home --home-dir /var/lib/bookshelf \
        --shell /usr/sbin/nologin bookshelf \
    && install -d -o bookshelf -g bookshelf -m 0750 /var/lib/bookshelf
# Root-owned and read-only for the service user: the code cannot be changed at run time.
COPY --from=builder /app/.venv /app/.venv
# BOOKSHELF_MODULE and BOOKSHELF_PORT_VARIABLE let the entrypoint and the health check, which Docker
# does not expand, find the service's module and the variable that holds its port.
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    BOOKSHELF_MODULE=${MODULE} \
    BOOKSHELF_PORT_VARIABLE=${ENV_PREFIX}_PORT \
    ${ENV_PREFIX}_HOST=0.0.0.0 \
    ${ENV_PREFIX}_PORT=${PORT}
WORKDIR /var/lib/bookshelf
USER 10001:10001
EXPOSE ${PORT}
# Liveness only (/healthz); orchestrators probe /readyz for readiness (docker-compose.yml, deploy/k8s).
HEALTHCHECK --interval=15s --timeout=5s --start-period=40s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ[os.environ['BOOKSHELF_PORT_VARIABLE']], timeout=4)"]
# `exec` keeps the service as PID 1 (it gets the stop signal); arguments of `docker run` follow.
ENTRYPOINT ["/bin/sh", "-c", "exec python -m \"$BOOKSHELF_MODULE\" \"$@\"", "bookshelf"]
