"""Benchmarks of the real server (`ally-scim serve`, gunicorn) over HTTP on 127.0.0.1, on SQLite
and PostgreSQL, with every figure also given as a ratio to a bare Flask endpoint under the same
server. Run with `make bench` or `python -m benchmarks --help`. Figures are printed, never
asserted: speed is not a test."""
