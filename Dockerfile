FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY headline_dedup ./headline_dedup
COPY service ./service
COPY workers ./workers
RUN pip install --no-cache-dir . && useradd --system --uid 10001 --home-dir /app headline-dedup \
    && mkdir -p /app/var && chown headline-dedup /app/var
USER headline-dedup
EXPOSE 8000
# The API; the worker and the dispatcher run the same image with `headline-dedup worker` / `dispatcher`
# (docker-compose.yml gives each its own healthcheck).
CMD ["headline-dedup", "api", "--host", "0.0.0.0"]
