"""Tutorial script: run crossgrad as a service and check a gradient over gRPC.

    python docs/tutorials/service.py

Starts `crossgrad serve --processes 2` on a free port (two server processes sharing it), checks
the tutorial's BCE-with-logits graph through the Python SDK, streams three more, reads the
server's limits, then stops the server with SIGTERM (a graceful drain).
"""

from __future__ import annotations

import signal
import subprocess
import sys

import crossgrad as torch
import crossgrad.nn.functional as F
from crossgrad.client import Client


def main() -> None:
    server = subprocess.Popen([sys.executable, "-m", "crossgrad", "serve", "--port", "0", "--processes", "2"],
                              stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline())  # type: ignore[union-attr]
    try:
        torch.manual_seed(0)
        x, y = torch.ones(5), torch.zeros(3)
        w = torch.randn(5, 3, requires_grad=True)
        b = torch.randn(3, requires_grad=True)
        loss = F.binary_cross_entropy_with_logits(torch.matmul(x, w) + b, y)
        with Client(f"127.0.0.1:{port}") as client:
            report = client.check(loss, names={"w": w, "b": b})
            print(report)
            assert report.verdict == "agree"
            verdicts = [r.verdict for r in client.check_many([loss, loss * 2, torch.tanh(loss)])]
            print("streamed:", verdicts)
            print("limits:", client.server_info()["limits"])
    finally:
        server.send_signal(signal.SIGTERM)
        print("server exit code:", server.wait(timeout=60))


if __name__ == "__main__":
    main()
