# The platform's image: the web app (gunicorn), the workers, the scheduler and the migrations all
# run the same code; docker-compose.yml says which command each container runs.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# The package is installed in place (-e): templates/ and static/ are read from beside it.
COPY pyproject.toml README.md ./
COPY wle ./wle
COPY jobs ./jobs
COPY templates ./templates
COPY static ./static
RUN pip install -e . \
    && useradd --create-home --uid 1000 wle \
    && mkdir -p /data/media \
    && chown -R wle /data

USER wle
# /data is the instance folder; /data/media (thumbnails) is a volume in docker-compose.yml.
ENV WLE_INSTANCE_DIR=/data WLE_MEDIA_DIR=/data/media
VOLUME ["/data/media"]
EXPOSE 8000
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "wle.app:create_app()"]
