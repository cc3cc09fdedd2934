"""Liveness and readiness for load balancers and orchestrators."""
from __future__ import annotations

import logging

from flask import Blueprint, jsonify

from connector import migrate
from connector.db import database

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    """The process is alive and answering; says nothing about the database."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Ready to serve: the database answers and every migration has been applied."""
    try:
        database.execute_sql("SELECT 1")
        waiting = migrate.pending()
    except Exception:  # noqa: BLE001 - any failure means "not ready"; the cause goes to the log
        log.exception("readiness check failed")
        return jsonify(status="unavailable", reason="database unreachable"), 503
    if waiting:
        return jsonify(status="unavailable", reason="migrations pending", pending=waiting), 503
    return jsonify(status="ok")
