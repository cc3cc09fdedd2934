"""The floor every benchmark figure is compared with: a bare Flask endpoint (no database, no
request hooks) served by `ally-scim serve`'s gunicorn configuration.

    python -m benchmarks.floor --port 8099 [--host 127.0.0.1] [--workers 2]
"""
from __future__ import annotations

import argparse

from flask import Flask, jsonify

from connector.config import Settings
from connector.serve import serve


def create_floor_app() -> Flask:
    app = Flask(__name__)

    @app.get("/floor")
    def floor():
        return jsonify(status="ok")

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.floor", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=Settings().server.workers)
    args = parser.parse_args(argv)
    serve(Settings(), args.host, args.port, args.workers, app_factory=create_floor_app)


if __name__ == "__main__":
    main()
