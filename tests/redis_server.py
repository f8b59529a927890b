"""A real `redis-server` on a free port for tests: started, killed and restarted on demand."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import PortTaken, free_port, port_was_taken


class RedisServer:
    """The OS package's redis-server, no persistence (a restart starts empty, like a lost one)."""

    def __init__(self, log_path: Path):
        binary = shutil.which("redis-server")
        if binary is None:  # a failure, not a skip: CI must test against a real Redis
            pytest.fail(
                "redis-server is not installed: `apt-get install -y redis-server` "
                "(.ci/run installs it); these tests need a real Redis"
            )
        self.binary = binary
        self.port = free_port()
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10) -> RedisServer:
        """Start, or start again on the same port (a restart must be where clients look)."""
        first = self.process is None
        try:
            return self._start(timeout)
        except PortTaken:
            if not first:
                raise
            # Another program bound the port before redis-server did: once more on a new one.
            self.port = free_port()
            return self._start(timeout)

    def _start(self, timeout: float) -> RedisServer:
        cmd = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        cmd += ["--appendonly", "no", "--logfile", str(self.log_path)]
        self.process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                if port_was_taken(self.log_path.read_text(errors="replace")):
                    raise PortTaken(self.port)
                raise RuntimeError(f"redis-server exited: {self.log_path.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def kill(self) -> None:
        """Gone at once, as when the Redis host dies (no shutdown, no save)."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def stop(self) -> None:
        self.kill()
