# syntax=docker/dockerfile:1
# One image for every fedcarbon role: coordinator, supplier/buyer agent and trustee.
# The entrypoint is the `fedcarbon` CLI; the role is the first argument, e.g.
#   docker run --rm fedcarbon coordinator serve --home /var/lib/fedcarbon/home
# See docs/operators.md ("Containers, compose and systemd").

ARG PYTHON_VERSION=3.11

# -- builder: the fedcarbon wheel and a wheel of every dependency (pyproject.toml) --------
FROM python:${PYTHON_VERSION}-slim AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# Only what the wheel is built from: no tests, examples, benchmarks or docs.
COPY pyproject.toml README.md LICENSE ./
COPY fedcarbon ./fedcarbon
COPY agent ./agent
COPY coordinator ./coordinator
# [postgres]: the psycopg driver, so the coordinator can use PostgreSQL (compose.yaml does).
RUN pip wheel --wheel-dir /wheels '.[postgres]'

# -- runtime: slim Python, the wheels installed, no compiler, no source tree, not root -----
FROM python:${PYTHON_VERSION}-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels 'fedcarbon[postgres]' \
    && fedcarbon --version

# One unprivileged user; each container keeps its role's home in /var/lib/fedcarbon/home
# (a volume), found through the roles' home variables without --home.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/fedcarbon \
        --shell /usr/sbin/nologin fedcarbon \
    && mkdir -p /var/lib/fedcarbon/home /var/lib/fedcarbon/invites \
    && chown -R fedcarbon:fedcarbon /var/lib/fedcarbon \
    && chmod 0750 /var/lib/fedcarbon/home
COPY deploy/compose/coordinator-start.sh deploy/compose/trustee-start.sh /usr/local/lib/fedcarbon/
ENV FEDCARBON_COORDINATOR_HOME=/var/lib/fedcarbon/home \
    FEDCARBON_AGENT_HOME=/var/lib/fedcarbon/home \
    FEDCARBON_TRUSTEE_HOME=/var/lib/fedcarbon/home

USER 10001:10001
WORKDIR /var/lib/fedcarbon
EXPOSE 50051
ENTRYPOINT ["fedcarbon"]
CMD ["--help"]
