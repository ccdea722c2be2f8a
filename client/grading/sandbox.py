"""The OS sandbox a submission runs in: bubblewrap (``bwrap``) with a private filesystem view.

Inside, the child sees only: the Python runtime (read-only, its site-packages masked by empty
tmpfs), numpy (read-only, at /sandbox/site), the runner script, the loader's library directories,
a fresh /proc of its own PID namespace, a minimal /dev, and two small writable tmpfs (its
working directory, holding a copy of its file, and /tmp). No network, IPC, UTS or PID
namespace of the host; no capabilities; ``no_new_privs``.

Identity: when the grader runs as root, bwrap (root, no user namespace) starts ``setpriv``, which
drops to an unprivileged uid/gid taken from :data:`UIDS` (one per running sandbox, so that
RLIMIT_NPROC counts each submission separately and every process of a submission can be found
and killed by its uid). As another user, bwrap makes a user namespace mapping uid 65534.

Limits (``prlimit``, applied before bwrap starts): CPU seconds, address space, processes, open
files, file size, no core dumps. Wall-clock time and output size are enforced from outside by
:mod:`.supervise`.
"""

from __future__ import annotations

import functools
import math
import os
import shutil
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RUNNER = Path(__file__).with_name("runner.py")
WORK = "/sandbox/work"
SITE = "/sandbox/site"
INSIDE_RUNNER = "/sandbox/runner.py"
NOBODY = 65534
UID_BASE = 1_999_000_000  # + (pid % 1000) * 1000 + slot: far from real users and subuid ranges
LIB_LINKS = ("/lib", "/lib64", "/lib32", "/libx32")  # merged-/usr symlinks, recreated inside
ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": WORK, "OPENBLAS_NUM_THREADS": "1",
       "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
UNSAFE_WARNING = ("crossgrad grade: WARNING: --unsafe-no-sandbox: student code runs WITHOUT the "
                  "bubblewrap sandbox, as this user, able to read and write everything this user "
                  "can (other submissions, the assignment, the results). Only for code you trust.")


class SandboxUnavailable(OSError):
    """bwrap (or prlimit/setpriv) is missing or cannot create a sandbox on this machine."""


@dataclass(frozen=True)
class Limits:
    """What one child may use. ``time_limit`` is per phase: the import, then each problem."""

    time_limit: float
    memory_mb: int
    phases: int
    output_bytes: int
    nproc: int = 64
    nofile: int = 64
    fsize_mb: int = 16
    tmpfs_mb: int = 64

    @property
    def cpu_seconds(self) -> int:
        return math.ceil(self.time_limit * self.phases) + 1


class UidPool:
    """Unprivileged uids for sandboxes running at the same time (one each)."""

    def __init__(self, base: int, size: int = 1000) -> None:
        self._base, self._size, self._used, self._lock = base, size, set[int](), threading.Lock()

    @contextmanager
    def take(self) -> Iterator[int]:
        with self._lock:  # a uid some process still has (another grader's sandbox) is skipped
            uid = next(u for u in range(self._base, self._base + self._size)
                       if u not in self._used and next(pids_of(u), None) is None)
            self._used.add(uid)
        try:
            yield uid
        finally:
            with self._lock:
                self._used.discard(uid)


UIDS = UidPool(UID_BASE + (os.getpid() % 1000) * 1000)


@dataclass(frozen=True)
class Host:
    """What of the host the sandbox shows: found once per process."""

    python: str
    binds: tuple[str, ...]  # read-only, same path inside
    masks: tuple[str, ...]  # site-packages directories hidden under an empty tmpfs
    numpy: tuple[tuple[str, str], ...]  # (host dir, inside dir)


def _lib_dirs() -> list[str]:
    """Where the dynamic loader finds shared libraries: the multiarch directories (Debian,
    Ubuntu) and lib64 (ld.so; Fedora's libraries), not the rest of /usr/lib."""
    arch = sysconfig.get_config_var("MULTIARCH") or ""
    wanted = ["/usr/lib64", "/lib64"] if not arch else [f"/usr/lib/{arch}", f"/lib/{arch}", "/usr/lib64", "/lib64"]
    if not arch or not os.path.isdir(f"/usr/lib/{arch}"):
        wanted += ["/usr/lib", "/lib"]  # no multiarch layout: the whole library directories
    real = {os.path.realpath(p) for p in wanted if os.path.isdir(p)}
    return sorted(p for p in real if not any(p.startswith(q + "/") for q in real))


def _site_dirs() -> set[str]:
    base = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix}
    found = {sysconfig.get_path(k, vars=base) for k in ("purelib", "platlib")}
    found |= {sysconfig.get_path(k) for k in ("purelib", "platlib")}
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    for root in ("/usr/lib", "/usr/local/lib", "/usr/lib64"):
        found |= {f"{root}/python3/dist-packages", f"{root}/{version}/dist-packages",
                  f"{root}/{version}/site-packages"}
    return {os.path.realpath(p) for p in found if os.path.isdir(p)}


@functools.cache
def host() -> Host:
    python = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
    prefixes = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.base_exec_prefix)}
    binds = [d for d in _lib_dirs() if not any(d.startswith(p + "/") for p in prefixes)] + sorted(prefixes)
    if not any(python.startswith(p + "/") for p in binds):
        binds.append(python)
    masks = [m for m in _site_dirs() if any(m.startswith(b + "/") for b in binds)]
    numpy_dir = Path(np.__file__).resolve().parent
    pairs = [(str(numpy_dir), f"{SITE}/numpy")]
    libs = numpy_dir.with_name("numpy.libs")
    if libs.is_dir():
        pairs.append((str(libs), f"{SITE}/numpy.libs"))
    return Host(python, tuple(binds), tuple(sorted(masks)), tuple(pairs))


def _dirs(path: str, made: set[str]) -> list[str]:
    """``--dir`` for each missing ancestor of ``path``, world-traversable (bwrap copies modes)."""
    out: list[str] = []
    parts = Path(path).parts[1:-1]
    for i in range(1, len(parts) + 1):
        d = "/" + "/".join(parts[:i])
        if d not in made:
            made.add(d)
            out += ["--perms", "0755", "--dir", d]
    return out


def _mounts(h: Host, limits: Limits, tools: list[str]) -> list[str]:
    made: set[str] = set()
    args: list[str] = []
    for tool in tools:
        args += _dirs(tool, made) + ["--ro-bind", tool, tool]
    for link in LIB_LINKS:
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
    for src in h.binds:
        args += _dirs(src, made) + ["--ro-bind", src, src]
    for mask in h.masks:
        args += ["--size", "4096", "--perms", "0555", "--tmpfs", mask]
    for src, dest in h.numpy:
        args += _dirs(dest, made) + ["--ro-bind", src, dest]
    args += _dirs(INSIDE_RUNNER, made) + ["--ro-bind", str(RUNNER), INSIDE_RUNNER]
    tmpfs = str(limits.tmpfs_mb << 20)
    args += ["--proc", "/proc", "--dev", "/dev", "--size", tmpfs, "--perms", "01777", "--tmpfs", "/tmp",
             "--size", tmpfs, "--perms", "01777", "--tmpfs", WORK]
    return args


def _tool(name: str) -> str:
    path = shutil.which(name) or next((p for p in (f"/usr/bin/{name}", f"/bin/{name}") if os.path.exists(p)), None)
    if path is None:
        raise SandboxUnavailable(f"`{name}` is not installed; the grading sandbox needs bubblewrap and util-linux "
                                 "(Debian/Ubuntu: apt-get install bubblewrap). See docs/grading.md.")
    return path


def prlimit_args(limits: Limits, uid: int | None) -> list[str]:
    """prlimit's argv prefix: a non-root grader's own processes count towards RLIMIT_NPROC too."""
    nproc = limits.nproc if uid is not None else limits.nproc + _processes_of(os.getuid())
    return [_tool("prlimit"), f"--cpu={limits.cpu_seconds}", f"--as={limits.memory_mb << 20}",
            f"--nproc={nproc}", f"--nofile={limits.nofile}", f"--fsize={limits.fsize_mb << 20}", "--core=0", "--"]


def _processes_of(uid: int) -> int:
    return sum(1 for _ in pids_of(uid))


def pids_of(uid: int) -> Iterator[int]:
    """Every process (and thread group) whose owner is ``uid``, from /proc."""
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    yield int(entry.name)
            except OSError:
                continue


def bwrap_argv(limits: Limits, uid: int | None, submission_fd: int) -> list[str]:
    """The whole command line: prlimit, bwrap, (setpriv,) python running the runner."""
    h = host()
    args = [*prlimit_args(limits, uid), _tool("bwrap"), "--unshare-pid", "--unshare-net", "--unshare-ipc",
            "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--as-pid-1",
            "--hostname", "sandbox"]
    if uid is None:
        args += ["--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY), "--disable-userns"]
    else:
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    setpriv = [_tool("setpriv")] if uid is not None else []
    args += _mounts(h, limits, setpriv)
    args += ["--perms", "0444", "--file", str(submission_fd), f"{WORK}/submission.py", "--chdir", WORK,
             "--remount-ro", "/", "--"]
    if uid is not None:
        args += [*setpriv, "--reuid", str(uid), "--regid", str(uid), "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    return args + [h.python, "-I", "-S", "-B", INSIDE_RUNNER, SITE, f"{WORK}/submission.py"]


def sandbox_uid() -> bool:
    """Whether sandboxes get their own host uid (the grader is root)."""
    return os.geteuid() == 0


@functools.cache
def probe() -> None:
    """Raise SandboxUnavailable unless a sandbox can really start here (checked once)."""
    limits = Limits(10.0, 1024, 1, 1 << 16)
    read, write = os.pipe()
    os.close(write)
    try:
        with UIDS.take() as uid:
            argv = bwrap_argv(limits, uid if sandbox_uid() else None, read)
            argv[-3:] = ["-c", f"import sys; sys.path.insert(0, {SITE!r}); import numpy"]
            done = subprocess.run(argv, pass_fds=(read,), capture_output=True, env=ENV, timeout=60,
                                  stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise SandboxUnavailable("bwrap did not start a sandbox within 60 s") from None
    finally:
        os.close(read)
    if done.returncode != 0:
        raise SandboxUnavailable("bwrap is installed but cannot start a sandbox here: "
                                 + done.stderr.decode(errors="replace").strip()[-500:])
