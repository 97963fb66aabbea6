"""Private files and folders: an archive of watched people is readable by its owner only.

Folders we create are 0700 and files 0600, whatever the process umask; folders that already
exist are left as the operator made them.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

__all__ = ["DIR_MODE", "FILE_MODE", "private_dir", "private_file", "process_started"]

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents with mode 0700 (existing ones are kept as is)."""
    path = Path(path).expanduser()
    missing = []
    for folder in (path, *path.parents):
        if folder.is_dir():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue  # made meanwhile (another process): whoever made it chose its mode
        os.chmod(folder, DIR_MODE)  # mkdir's mode is filtered by the umask; this is not
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 if it does not exist (its folder private too)."""
    path = Path(path).expanduser()
    private_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return path
    os.fchmod(fd, FILE_MODE)
    os.close(fd)
    return path


def process_started(pid: int | None = None) -> float | None:
    """When process ``pid`` (default this one) started, in epoch seconds; ``None`` when no such
    process is running (or it is a zombie). Read from /proc; elsewhere this process answers
    "now" and another one ``None``."""
    own = pid is None or pid == os.getpid()
    try:
        fields = Path(f"/proc/{pid or 'self'}/stat").read_text().rsplit(")", 1)[1].split()
        if fields[0] in ("Z", "X"):  # exited, not yet reaped
            return None
        boot = next(
            int(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime")
        )
        return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except FileNotFoundError:
        return time.time() if own else None
    except (OSError, ValueError, IndexError, StopIteration):
        return time.time() if own else None
