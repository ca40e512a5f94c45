FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 onboard
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY store ./store
COPY messages ./messages
RUN pip install . && rm -rf /app/build

USER onboard
WORKDIR /home/onboard
# The SQLite default lives here; mount a volume, or set DATABASE_URL to PostgreSQL.
VOLUME ["/home/onboard"]
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4).status == 200 else 1)"

# Nudges and escalations: run a second container from this image with the command
# `onboard-bot scheduler` (same environment, `docker run --no-healthcheck`: it serves no HTTP),
# or add `--with-scheduler` to the command below for a single container.
CMD ["onboard-bot", "serve", "--migrate", "--port", "3000"]
