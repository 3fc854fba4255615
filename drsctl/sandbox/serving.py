"""A local HTTP server in a thread of its own, started and stopped with the sandbox."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from socketserver import BaseServer


class ServerThread:
    """Runs ``server.serve_forever`` in a daemon thread; ``stop`` frees the port."""

    def __init__(self, server: BaseServer, name: str) -> None:
        self.server = server
        self.port = int(server.server_address[1])  # type: ignore[index]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and free the port (shutdown() would wait forever if never started)."""
        if self._thread.is_alive():
            self.server.shutdown()
            self._thread.join(timeout=5)
        self.server.server_close()
