"""`ally-scim serve`: the production WSGI server (gunicorn), never Flask's development server."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from contextlib import contextmanager
from typing import Callable

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from connector.config import Settings
from connector.logs import JsonFormatter
from connector.metrics import MULTIPROC_ENV


class JsonLogger(Logger):
    """gunicorn's own log lines (boot, worker exits, timeouts) in the connector's JSON format."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())


class ConnectorServer(BaseApplication):
    """Gunicorn running a WSGI app built in each worker (no app is shared across forks):
    connector.create_app, or `app_factory` for another app under the same configuration
    (the benchmarks' floor)."""

    def __init__(self, settings: Settings, host: str, port: int, workers: int,
                 app_factory: Callable | None = None):
        self.settings = settings
        self.bind_address = f"{host}:{port}"
        self.workers = workers
        self.app_factory = app_factory
        super().__init__()

    def load_config(self):
        self.cfg.set("bind", self.bind_address)
        self.cfg.set("workers", self.workers)
        self.cfg.set("worker_class", "gthread")
        self.cfg.set("threads", 4)
        self.cfg.set("timeout", self.settings.server.timeout_seconds)
        self.cfg.set("graceful_timeout", 10)
        self.cfg.set("accesslog", None)  # connector.request_log writes one JSON line per request
        self.cfg.set("logger_class", JsonLogger)
        self.cfg.set("loglevel", self.settings.log_level.lower())
        # Several servers may run on one host (tests, blue/green); none needs the control socket.
        self.cfg.set("control_socket_disable", True)
        if self.settings.mail.worker_in_serve:
            self.cfg.set("post_worker_init", start_mail_worker)
            self.cfg.set("worker_exit", stop_mail_worker)
        if self.settings.metrics.enabled:
            self.cfg.set("child_exit", _forget_dead_worker)

    def load(self):
        if self.app_factory is not None:
            return self.app_factory()
        from connector import create_app

        return create_app(self.settings)


def start_mail_worker(worker) -> None:
    """mail.worker_in_serve: each gunicorn worker process also delivers the outbox, on a thread.
    Several of them at once are safe: every message is claimed by one worker at a time."""
    from connector.delivery import BackgroundWorker

    mail = worker.app.settings.mail
    if not mail.smtp_host:
        worker.log.warning("mail.worker_in_serve is true but mail.smtp_host is not set: no email is sent")
        return
    worker.ally_mail_worker = BackgroundWorker(mail).start()


def stop_mail_worker(server, worker) -> None:
    """Finish the message in hand, then let the worker process exit."""
    background = getattr(worker, "ally_mail_worker", None)
    if background is not None:
        background.stop(timeout=worker.app.settings.mail.timeout_seconds)


def serve(settings: Settings, host: str, port: int, workers: int, app_factory: Callable | None = None) -> None:
    server = ConnectorServer(settings, host, port, workers, app_factory)
    with _metrics_directory(settings.metrics.enabled):
        server.run()


@contextmanager
def _metrics_directory(enabled: bool):
    """A fresh PROMETHEUS_MULTIPROC_DIR for this server, set before the workers fork; removed
    when the master exits (workers leave through this block too, and must not remove it)."""
    if not enabled:
        yield
        return
    if "prometheus_client" in sys.modules:
        raise RuntimeError("prometheus_client was imported before `ally-scim serve` set "
                           f"{MULTIPROC_ENV}: workers would keep separate, unaggregated metrics")
    master = os.getpid()
    path = tempfile.mkdtemp(prefix="ally-scim-metrics-")
    os.environ[MULTIPROC_ENV] = path
    try:
        yield
    finally:
        if os.getpid() == master:
            shutil.rmtree(path, ignore_errors=True)


def _forget_dead_worker(server, worker) -> None:
    """gunicorn child_exit hook (master): drop the dead worker's live gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
