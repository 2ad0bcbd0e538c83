"""The HTTP API (Flask app factory)."""
from service.app import create_app

__all__ = ["create_app"]
