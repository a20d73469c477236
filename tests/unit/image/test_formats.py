"""Disk format inspection: what uploaded bytes really are, and whether they are safe."""

from __future__ import annotations

import struct

import pytest

from overcast.image.formats import FormatMismatch, check, inspect

GIB = 1 << 30


def qcow2(
    virtual_size: int = GIB, *, backing: int = 0, version: int = 3, data_file: bool = False
) -> bytes:
    header = bytearray(512)
    header[:4] = b"QFI\xfb"
    struct.pack_into(">IQ", header, 4, version, backing)
    struct.pack_into(">Q", header, 24, virtual_size)
    struct.pack_into(">Q", header, 72, 1 << 2 if data_file else 0)
    return bytes(header)


def vhd_footer(current_size: int) -> bytes:
    footer = bytearray(512)
    footer[:8] = b"conectix"
    struct.pack_into(">Q", footer, 48, current_size)
    return bytes(footer)


def test_qcow2_header_gives_the_virtual_size() -> None:
    found = inspect(qcow2(10 * GIB), b"", 512)
    assert (found.format, found.virtual_size, found.unsafe) == ("qcow2", 10 * GIB, None)


def test_qcow2_with_a_backing_file_is_unsafe() -> None:
    found = inspect(qcow2(backing=4096), b"", 512)
    assert found.format == "qcow2" and "backing file" in (found.unsafe or "")
    with pytest.raises(FormatMismatch, match="not safe"):
        check("qcow2", found, require_match=False)


def test_qcow2_with_an_external_data_file_is_unsafe() -> None:
    assert "data file" in (inspect(qcow2(data_file=True), b"", 512).unsafe or "")
    assert inspect(qcow2(version=2, data_file=True), b"", 512).unsafe is None


def test_unknown_bytes_are_raw_and_their_virtual_size_is_their_size() -> None:
    found = inspect(b"\x01" * 1000, b"", 1000)
    assert (found.format, found.virtual_size) == ("raw", 1000)


def test_vmdk_sparse_header_and_descriptor() -> None:
    sparse = bytearray(512)
    sparse[:4] = b"KDMV"
    struct.pack_into("<Q", sparse, 12, 2048)
    assert inspect(bytes(sparse), b"", 512).virtual_size == 2048 * 512
    descriptor = inspect(b"# Disk DescriptorFile\nversion=1\n", b"", 40)
    assert descriptor.format == "vmdk" and descriptor.unsafe


def test_vhd_is_found_by_its_footer_at_either_end() -> None:
    assert inspect(vhd_footer(5 * GIB), b"", 1024).virtual_size == 5 * GIB
    assert inspect(b"\0" * 1024, vhd_footer(7 * GIB), 4096).format == "vhd"


def test_iso_vdi_vhdx_and_ploop_signatures() -> None:
    iso = bytearray(0x9000)
    iso[0x8001:0x8006] = b"CD001"
    assert inspect(bytes(iso), b"", 1 << 20).format == "iso"
    vdi = bytearray(0x200)
    struct.pack_into("<I", vdi, 0x40, 0xBEDA107F)
    struct.pack_into("<Q", vdi, 0x170, 3 * GIB)
    assert inspect(bytes(vdi), b"", 0x200).virtual_size == 3 * GIB
    assert inspect(b"vhdxfile" + b"\0" * 100, b"", 108).format == "vhdx"
    assert inspect(b"WithoutFreeSpace" + b"\0" * 100, b"", 116).format == "ploop"


@pytest.mark.parametrize("declared", ["raw", "ami", "ari", "aki"])
def test_raw_like_formats_accept_raw_data(declared: str) -> None:
    assert check(declared, inspect(b"\x07" * 100, b"", 100), require_match=True) == 100


def test_a_qcow2_declared_raw_is_refused_when_formats_must_match() -> None:
    found = inspect(qcow2(), b"", 512)
    with pytest.raises(FormatMismatch, match=r"qcow2 format.*'raw'"):
        check("raw", found, require_match=True)
    assert check("raw", found, require_match=False) is None


def test_raw_bytes_declared_qcow2_are_refused_when_formats_must_match() -> None:
    with pytest.raises(FormatMismatch):
        check("qcow2", inspect(b"junk" * 100, b"", 400), require_match=True)
