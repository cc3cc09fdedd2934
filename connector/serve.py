"""`ally-scim serve`: the production WSGI server (gunicorn), never Flask's development server."""
from __future__ import annotations

from gunicorn.app.base import BaseApplication

from connector.config import Settings


class ConnectorServer(BaseApplication):
    """Gunicorn running connector.create_app in each worker (no app is shared across forks)."""

    def __init__(self, settings: Settings, host: str, port: int, workers: int):
        self.settings = settings
        self.bind_address = f"{host}:{port}"
        self.workers = workers
        super().__init__()

    def load_config(self):
        self.cfg.set("bind", self.bind_address)
        self.cfg.set("workers", self.workers)
        self.cfg.set("worker_class", "gthread")
        self.cfg.set("threads", 4)
        self.cfg.set("timeout", self.settings.server.timeout_seconds)
        self.cfg.set("graceful_timeout", 10)
        self.cfg.set("accesslog", None)
        # Several servers may run on one host (tests, blue/green); none needs the control socket.
        self.cfg.set("control_socket_disable", True)
        if self.settings.mail.worker_in_serve:
            self.cfg.set("post_worker_init", start_mail_worker)
            self.cfg.set("worker_exit", stop_mail_worker)

    def load(self):
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


def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    ConnectorServer(settings, host, port, workers).run()
