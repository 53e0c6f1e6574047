FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml ./
RUN pip install --no-cache-dir . && useradd --create-home portal
COPY . .
RUN DEBUG=true python manage.py collectstatic --noinput
USER portal
EXPOSE 8000
# Sync workers, 2 × cores + 1 unless WEB_CONCURRENCY says otherwise: requests are short and CPU-bound
# (bench/README.md, REST API: 5 workers on 2 cores served 1.4× the requests of 3; threads did not help).
CMD ["sh", "-c", "exec gunicorn portal.wsgi:application --bind 0.0.0.0:8000 --workers ${WEB_CONCURRENCY:-$((2 * $(nproc) + 1))}"]
