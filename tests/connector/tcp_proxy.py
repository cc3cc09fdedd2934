"""A TCP proxy on 127.0.0.1 that can drop every connection through it at once, as a failed
network link or a restarted load balancer would (both ends see the socket closed; the database
server sends no error first, unlike pg_terminate_backend), and can stop listening, as a server
that is down."""
from __future__ import annotations

import selectors
import socket
import socketserver
import threading


class DroppingProxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, upstream: tuple[str, int]):
        super().__init__(("127.0.0.1", 0), _Pump)
        self.upstream = upstream
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.refuse_new_connections()
        self.drop_connections()

    def refuse_new_connections(self) -> None:
        """Stop listening: a new connection to the port is refused, as to a server that is down."""
        if self._thread.is_alive():
            self.shutdown()
        self.server_close()

    def drop_connections(self) -> int:
        """Close every connection through the proxy, both sides; returns how many sockets."""
        with self._lock:
            sockets, self._open = self._open, set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        return len(sockets)

    def _track(self, *sockets: socket.socket) -> None:
        with self._lock:
            self._open.update(sockets)


class _Pump(socketserver.BaseRequestHandler):
    def handle(self):
        client = self.request
        upstream = socket.create_connection(self.server.upstream, timeout=10)
        self.server._track(client, upstream)
        try:
            self._pump({client: upstream, upstream: client})
        finally:
            upstream.close()

    @staticmethod
    def _pump(peers: dict) -> None:
        """Copy bytes both ways until either side closes (or the proxy drops the pair)."""
        with selectors.DefaultSelector() as selector:
            for sock in peers:
                selector.register(sock, selectors.EVENT_READ)
            try:
                while True:
                    for key, _ in selector.select(timeout=0.5):
                        data = key.fileobj.recv(65536)
                        if not data:
                            return
                        peers[key.fileobj].sendall(data)
            except (OSError, ValueError):  # a socket closed by drop_connections
                return
