# syntax=docker/dockerfile:1
# BC-RAO Collector: one image for the API (`bcrao serve`), the workers (`bcrao worker`)
# and the one-shot migration (`bcrao migrate`). See docs/DEPLOY.md.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m venv /opt/venv && /opt/venv/bin/pip install .

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    BCRAO_DATA_DIR=/data \
    BCRAO_LOG_JSON=true
RUN groupadd --system --gid 10001 bcrao \
    && useradd --system --uid 10001 --gid bcrao --home-dir /data --create-home --shell /usr/sbin/nologin bcrao
COPY --from=build /opt/venv /opt/venv
USER bcrao
WORKDIR /data
EXPOSE 8000
# /healthz answers while the process is up; /readyz also checks the database and Redis.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
CMD ["bcrao", "serve", "--host", "0.0.0.0", "--port", "8000"]
