"""The HTTP API (Flask app factory)."""
from headline_dedup.service.app import create_app

__all__ = ["create_app"]
