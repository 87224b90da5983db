# Stages: builder (venv) -> models (weights baked in) -> runtime-base -> flower | runtime (default).
# Build: docker build -t comment-moderation .   (CPU torch from download.pytorch.org; another
# index, e.g. a mirror: --build-arg TORCH_INDEX_URL=<your CPU wheel index>)
# See docs/operating.md.

FROM python:3.11-slim AS builder
# The index holding CPU-only torch wheels: PyTorch's own by default, or a mirror. Empty uses
# the default index, whose Linux torch wheels pull in the CUDA libraries (several GB). Put no
# credentials in it: build args are kept in the image history.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# As `make install` does: torch from its one pin (requirements/torch.txt), then every other
# runtime package from the hashed lock (requirements/main.txt, `make lock`) exactly, then the
# project itself without dependencies; `pip check` proves the lock complete.
COPY requirements/torch.txt ./requirements/
RUN if [ -n "$TORCH_INDEX_URL" ]; then \
        pip install -r requirements/torch.txt --index-url "$TORCH_INDEX_URL"; \
    else \
        pip install -r requirements/torch.txt; \
    fi
COPY requirements/main.txt ./requirements/
RUN pip install --require-hashes --no-deps -r requirements/main.txt
COPY pyproject.toml README.md ./
COPY service ./service
COPY workers ./workers
COPY policy ./policy
RUN pip install --no-deps . && pip check

FROM builder AS models
ARG MODERATION_VARIANT=unbiased
RUN moderation models fetch "${MODERATION_VARIANT:-unbiased}" --to /models

FROM python:3.11-slim AS runtime-base
RUN groupadd --system --gid 10001 moderation \
    && useradd --system --uid 10001 --gid moderation --create-home \
        --home-dir /home/moderation --shell /usr/sbin/nologin moderation
COPY --from=builder /opt/venv /opt/venv
COPY --from=models /models /models
ENV PATH=/opt/venv/bin:$PATH \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /home/moderation
# Numeric, so that Kubernetes' runAsNonRoot can verify it (a user name it can't) and the
# compose secrets' file owner is known (docs/operating.md).
USER 10001:10001
EXPOSE 8000 9100
STOPSIGNAL SIGTERM
ENTRYPOINT ["moderation"]
CMD ["api", "--host", "0.0.0.0", "--port", "8000"]

# Optional dashboard (compose profile `flower`): the same image plus the flower package, the
# version pyproject.toml's dev extra pins (tests/deploy/test_dockerfile.py keeps them equal).
FROM runtime-base AS flower
ARG FLOWER_VERSION=2.2.0
USER root
RUN pip install --no-cache-dir "flower==${FLOWER_VERSION}"
USER 10001:10001
EXPOSE 5555
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5555/healthcheck', timeout=4)"]
ENTRYPOINT ["celery", "--app", "workers.celery_app:app", "flower"]
CMD ["--port=5555"]
# Labels last, so a new revision rebuilds no layer. VERSION is pyproject.toml's [project]
# version; REVISION the commit built and SOURCE_URL the repository it is in:
# --build-arg REVISION=$(git rev-parse HEAD) --build-arg SOURCE_URL=$(git remote get-url origin)
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE_URL=
LABEL org.opencontainers.image.title="comment-moderation-flower" \
      org.opencontainers.image.description="Flower, Celery's dashboard, for comment-moderation's workers" \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0"

# Last, so a plain `docker build .` produces the service image.
FROM runtime-base AS runtime
# The API's liveness (`moderation api`, the default command). Workers, beat and the one-shot
# migrate serve no HTTP: docker-compose.yml gives the workers `celery inspect ping` and turns
# it off for the others.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE_URL=
LABEL org.opencontainers.image.title="comment-moderation" \
      org.opencontainers.image.description="Self-hosted comment moderation for news sites: Detoxify scoring, a standards-board policy and a moderators' hold queue." \
      org.opencontainers.image.source="${SOURCE_URL}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0"
