# syntax=docker/dockerfile:1
# netreason as a container: `docker build -t netreason .` then
#   docker run --rm -p 8000:8000 -e NETREASON_API_TOKENS=change-me --read-only --tmpfs /tmp \
#     -v netreason-data:/var/lib/netreason netreason
# or any other command: docker run --rm -v "$PWD:/work:ro" netreason lint /work/k8s
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: a virtualenv with netreason and its dependencies (wheels only: nothing is compiled) ----------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY verifier ./verifier
COPY prompts ./prompts
COPY service ./service
COPY evals ./evals
RUN python -m venv /opt/netreason \
 && /opt/netreason/bin/pip install --only-binary=:all: ".[postgres]" \
 && /opt/netreason/bin/pip uninstall --yes pip

# --- final: the virtualenv on a slim base, no pip, no compilers, no source tree ---------------------------
FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 netreason \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/netreason --no-create-home \
      --shell /usr/sbin/nologin netreason \
 && install --directory --owner=10001 --group=10001 --mode=0750 /var/lib/netreason
COPY --from=build /opt/netreason /opt/netreason
# State lives only in the volume (SQLite) or in PostgreSQL (NETREASON_DATABASE_URL): the root filesystem may
# be read-only. /tmp must be writable (a tmpfs or emptyDir): `serve --workers N` keeps its metrics there.
ENV PATH=/opt/netreason/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/var/lib/netreason \
    XDG_DATA_HOME=/var/lib/netreason \
    TMPDIR=/tmp \
    NETREASON_DATABASE_URL=sqlite:////var/lib/netreason/netreason.db
VOLUME ["/var/lib/netreason"]
USER 10001:10001
WORKDIR /var/lib/netreason
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["netreason"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
