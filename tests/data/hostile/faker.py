"""At import: writes fake answers with a huge shape on every descriptor, then exits at once."""
import contextlib
import os

FAKE = b'{"imported": true}\n[{"ok": {"x": {"shape": [1000000000], "data": []}}}, {"ok": {}}]\nnull\n'
for fd in range(1, 12):
    with contextlib.suppress(OSError):
        os.write(fd, FAKE)
os._exit(0)
