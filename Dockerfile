# The platform's image: web (gunicorn) and workers run the same code.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY wle ./wle
COPY jobs ./jobs
COPY templates ./templates
COPY static ./static
RUN pip install -e . && useradd --create-home wle && mkdir -p /data/media && chown -R wle /data
USER wle
ENV WLE_INSTANCE_DIR=/data WLE_MEDIA_DIR=/data/media
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "4", "wle.app:create_app()"]
