"""A TCP relay to a real S3 server that breaks after a number of requests, as a network or
an endpoint fails part way through a pass."""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType

REQUEST_LINE_END = b" HTTP/1.1\r\n"


class BreakingRelay:
    """Relays `target` ("host:port") on a port of its own; after `budget` requests every
    connection is cut and new ones are closed at once."""

    def __init__(self, target: str, budget: int) -> None:
        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        self.budget = budget
        self.requests = 0
        self.broken = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._server = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self._server.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def __enter__(self) -> BreakingRelay:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.broken.set()
        self._server.close()
        self._close_all()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if self.broken.is_set():
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, asking: bool) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if asking:
                    with self._lock:
                        self.requests += data.count(REQUEST_LINE_END)
                        over = self.requests > self.budget
                    if over:
                        self.broken.set()
                        self._close_all()
                        return
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def _close_all(self) -> None:
        with self._lock:
            for open_socket in self._sockets:
                with contextlib.suppress(OSError):
                    open_socket.close()
            self._sockets.clear()
