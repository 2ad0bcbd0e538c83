"""WSGI entry point for gunicorn: `gunicorn headline_dedup.service.wsgi:app` (needs REDIS_URL)."""
from headline_dedup.errors import ConfigurationError
from headline_dedup.settings import Settings
from headline_dedup.service import create_app
from headline_dedup.storage.client import service_client

settings = Settings()
if not settings.redis_url:
    raise ConfigurationError(message="gunicorn needs REDIS_URL (the bundled Redis is for `headline-dedup serve`)")
app = create_app(settings, service_client(settings.redis_url, settings))
