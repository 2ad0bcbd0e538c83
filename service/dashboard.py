"""The desk's live page at `/`: a server-rendered shell whose script reads the API with the editor's key (kept in
the browser session), follows `/v1/events` and sends corrections. The page itself holds no data and needs no key."""
from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("dashboard", __name__, template_folder="templates", static_folder="static",
               static_url_path="/ui/static")


@bp.get("/")
def page():
    return render_template("dashboard.html")
