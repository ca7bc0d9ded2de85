"""The native unpacker (`_unpack.c`): members of one mapped wheel, unpacked without the GIL."""

from collections.abc import Sequence

from typing_extensions import Buffer

BLOCK: int
WHOLE_LIMIT: int

class UnpackError(ValueError):
    """A member's data cannot be unpacked; `args` is (job index, problem)."""

#: (local header offset, compressed size, method, size, path, executable, cache number)
Job = tuple[int, int, int, int, bytes, bool, int]

def unpack(
    archive: Buffer, jobs: Sequence[Job], link_dir: bytes | None, whole_limit: int = ...
) -> tuple[list[tuple[str, int]], bool]: ...
