#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Extract the framed results archive written by tests/e2e/guest/init.c.

usage: extract-results.py DISK OUTDIR

Exit 0 and one file per archived result under OUTDIR, or exit 1 with one
line on stderr: "result missing: ..." (no archive header: the guest never
wrote results) or "truncated: ..." (header present, framing or trailer
absent/corrupt).  The layout is documented in tests/e2e/README.md.
"""
import os
import struct
import sys
import zlib

HDR = b"LZTRES01"
DISK = b"LZTRDISK"


def fail(kind, msg):
    print(f"{kind}: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        sys.exit(2)
    disk, outdir = sys.argv[1:]
    try:
        with open(disk, "rb") as f:
            data = f.read()
    except OSError as e:
        fail("result missing", f"cannot read {disk}: {e.strerror}")
    if data[:8] == DISK:
        fail("result missing", f"{disk} still holds the blank marker (guest wrote nothing)")
    if data[:8] != HDR:
        fail("result missing", f"{disk} has no results header")
    (version, _) = struct.unpack_from("<II", data, 8)
    if version != 1:
        fail("truncated", f"unknown archive version {version}")
    off = 16
    files = []
    while True:
        tag = data[off:off + 4]
        if tag == b"FILE":
            if off + 16 > len(data):
                fail("truncated", f"file header cut at byte {off}")
            nlen, dlen = struct.unpack_from("<IQ", data, off + 4)
            start = off + 16
            if nlen == 0 or nlen > 4096 or start + nlen + dlen > len(data):
                fail("truncated", f"file record at byte {off} runs past the end")
            name = data[start:start + nlen].decode("utf-8", "replace")
            files.append((name, data[start + nlen:start + nlen + dlen]))
            off = start + nlen + dlen
        elif tag == b"TRLR":
            if off + 28 > len(data):
                fail("truncated", "trailer cut short")
            count, before, crc = struct.unpack_from("<IQI", data, off + 4)
            if data[off + 20:off + 28] != b"LZTREND!":
                fail("truncated", "trailer end marker missing")
            if before != off or count != len(files):
                fail("truncated", f"trailer says {count} files/{before} bytes, "
                     f"found {len(files)}/{off}")
            if zlib.crc32(data[:off]) & 0xffffffff != crc:
                fail("truncated", "checksum mismatch")
            break
        else:
            fail("truncated", f"no trailer (archive ends after {len(files)} files, "
                 f"byte {off})")
    os.makedirs(outdir, exist_ok=True)
    for name, blob in files:
        if name.startswith("/") or ".." in name.split("/"):
            fail("truncated", f"unsafe name {name!r}")
        path = os.path.join(outdir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(blob)
    print(f"{len(files)} result files")


if __name__ == "__main__":
    main()
