"""WSGI entry point for gunicorn: `gunicorn headline_dedup.service.wsgi:app` (needs REDIS_URL)."""
import redis

from headline_dedup.errors import ConfigurationError
from headline_dedup.settings import Settings
from headline_dedup.service import create_app

settings = Settings()
if not settings.redis_url:
    raise ConfigurationError(message="gunicorn needs REDIS_URL (the bundled Redis is for `headline-dedup serve`)")
app = create_app(settings, redis.Redis.from_url(settings.redis_url, max_connections=settings.redis_max_connections))
