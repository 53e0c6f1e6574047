# Two stages: `build` makes wheels from the hashed runtime lock, compiles the translations and collects
# the static files under production settings (so the manifest exists); the runtime image holds only the
# installed packages and the application, runs as a non-root user and never reads an .env file
# (.dockerignore). tests/test_image.py runs this image's start command outside Docker.
FROM python:3.11-slim AS build
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY requirements/runtime.txt requirements/runtime.txt
RUN pip wheel --no-cache-dir --require-hashes --no-deps -r requirements/runtime.txt -w /wheels \
 && python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --no-index --find-links /wheels --require-hashes --no-deps \
      -r requirements/runtime.txt
COPY . .
# Production settings with build-only values: nothing connects to the database or the broker here.
ENV DEBUG=false SECRET_KEY=build-only-not-a-secret-build-only-not-a-secret-build-only \
    ALLOWED_HOSTS=build DATABASE_URL=postgres://build@127.0.0.1:5432/build \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/0 STATIC_ROOT=/src/staticfiles
RUN /opt/venv/bin/python manage.py compilemessages \
 && /opt/venv/bin/python manage.py collectstatic --noinput \
 && test -f /src/staticfiles/staticfiles.json

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH STATIC_ROOT=/app/staticfiles
RUN useradd --create-home --uid 10001 portal && mkdir -p /data/media && chown portal /data/media
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=root:root /src /app
USER portal
EXPOSE 8000
# Sync workers, 2 × cores + 1 unless WEB_CONCURRENCY says otherwise: requests are short and CPU-bound
# (bench/README.md, REST API: 5 workers on 2 cores served 1.4× the requests of 3; threads did not help).
CMD ["bin/start-web"]
