# One image for every farmstream service; docker-compose.yml picks the subcommand with `command:`.
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN useradd --system --uid 10001 --create-home --home-dir /var/lib/farmstream farmstream
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels farmstream && rm -rf /wheels
USER farmstream
WORKDIR /var/lib/farmstream
# Created as the service user, so the named volumes mounted on them start out writable by it.
RUN mkdir -p /var/lib/farmstream/agents /var/lib/farmstream/scraper
CMD ["farmstream", "--help"]
