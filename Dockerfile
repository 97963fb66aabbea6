# syntax=docker/dockerfile:1
#
# Two stages: the builder turns the project and every dependency into wheels (langdetect, for
# one, is only published as a source distribution); the runtime installs those wheels offline
# and carries no compiler, no source tree and no pip cache.
#
#   docker build -t telegram-monitor .
#   docker run --rm telegram-monitor monitor demo --data-dir /tmp/demo   # offline, simulated
#   docker run --rm -v monitor-data:/data telegram-monitor monitor db upgrade
#   docker run -it --rm -v monitor-data:/data -e MONITOR_TELEGRAM_API_ID -e MONITOR_TELEGRAM_API_HASH \
#     telegram-monitor monitor login                        # once; session file -> /data, 0600
#   docker run -d --stop-timeout 15 -v monitor-data:/data \
#     -v "$PWD/channels.yaml:/config/channels.yaml:ro" \
#     -e MONITOR_TELEGRAM_API_ID -e MONITOR_TELEGRAM_API_HASH telegram-monitor
#
# `monitor run` takes up to 10 s after SIGTERM (in-flight batches, then queued alerts), as long as
# Docker's default wait before SIGKILL: --stop-timeout 15 (Compose: stop_grace_period: 15s) leaves
# room for start-up and the summary line. A named volume takes the image's ownership of /data; a host directory
# mounted there must be writable by uid 10001. RUN --mount needs BuildKit (Docker's default).

FROM python:3.11-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
# Only what the distribution is built from (pyproject.toml names README.md as its readme).
COPY pyproject.toml README.md ./
COPY monitor ./monitor
COPY storage ./storage
COPY alerts ./alerts

RUN pip wheel --wheel-dir /wheels .


FROM python:3.11-slim AS runtime

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MONITOR_DATA_DIR=/data \
    MONITOR_CHANNELS_FILE=/config/channels.yaml

# The wheels are bind-mounted from the builder, so they never become a layer of this image.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels telegram-monitor

# Tesseract reads text in photos (channels with `ocr:`), with Arabic, Persian and English data.
# The demo's posters are drawn in Arabic script: a font with those letters (DejaVu) and FriBiDi,
# which Pillow's text layout (libraqm) loads to order and join them.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       tesseract-ocr tesseract-ocr-ara tesseract-ocr-fas tesseract-ocr-eng \
       fonts-dejavu-core libfribidi0 \
    && rm -rf /var/lib/apt/lists/*

# A fixed non-root uid/gid, so volumes can be chowned to it and Kubernetes can verify it.
RUN groupadd --system --gid 10001 monitor \
    && useradd --system --uid 10001 --gid monitor --home-dir /home/monitor --create-home \
       --shell /usr/sbin/nologin monitor \
    && mkdir -p /data /config \
    && chown monitor:monitor /data

# The commented example watchlist (what `monitor demo` uses); mount your own over it,
# read-only is fine: the monitor only reads it (and reloads it when it changes).
COPY channels.yaml /config/channels.yaml

# Database (SQLite by default), photos, the Telegram session file and alerts.jsonl live here.
VOLUME /data

WORKDIR /home/monitor
USER 10001:10001

CMD ["monitor", "run"]
