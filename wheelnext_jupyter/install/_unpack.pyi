"""The native unpacker (`_unpack.c`): members of one mapped wheel, unpacked without the GIL,
members linked from the unpacked-wheel cache, and the wheel's central directory."""

from collections.abc import Sequence

from typing_extensions import Buffer

BLOCK: int
WHOLE_LIMIT: int
POOL_BYTES: int
SMALL_LIMIT: int
#: Built with libdeflate: deflated members are inflated whole, into buffers kept between calls
#: (`kept_buffers`); otherwise they stream through zlib and nothing is kept.
INFLATES_WHOLE: bool

class UnpackError(ValueError):
    """A member's data cannot be unpacked; `args` is (job index, problem)."""

class BadArchive(ValueError):
    """The file is not a zip archive that can be read; the argument says why."""

class Member(tuple[str, int, int, int, int, int, int, int]):
    """A central directory entry, with `zipfile.ZipInfo`'s attribute names."""

    @property
    def filename(self) -> str: ...
    @property
    def header_offset(self) -> int: ...
    @property
    def compress_size(self) -> int: ...
    @property
    def file_size(self) -> int: ...
    @property
    def compress_type(self) -> int: ...
    @property
    def flag_bits(self) -> int: ...
    @property
    def external_attr(self) -> int: ...
    @property
    def CRC(self) -> int: ...

#: (local header offset, compressed size, method, size, path, executable, cache number)
Job = tuple[int, int, int, int, bytes, bool, int]

def unpack(
    archive: Buffer,
    jobs: Sequence[Job],
    link_dir: bytes | None,
    whole_limit: int = ...,
    base_dir: bytes | None = ...,
) -> tuple[list[tuple[str, int]], bool]: ...
def link(
    source_dir: bytes,
    jobs: Sequence[tuple[int, int, bytes]],
    created_ns: int,
    base_dir: bytes | None = ...,
) -> None: ...
def directory(archive: Buffer) -> list[Member]: ...
def inflate_small(data: Buffer, size: int) -> bytes: ...
def crc32_small(data: Buffer) -> int: ...
def release_buffers() -> int: ...
def kept_buffers() -> list[int]: ...
def use_sha_extensions(enabled: bool) -> bool: ...
