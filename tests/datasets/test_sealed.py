"""Sealed HDF5 files: the header holds the label and the SHA-256 of the rest; h5py opens only a file that matches."""
import hashlib
import os

import h5py
import numpy as np
import pytest

import datasets
from datasets import sealed
from datasets.sealed import BrokenSeal, create_sealed, open_sealed

LABEL = "test file, format 7"


def write(path, values=(1, 2, 3), label=LABEL):
    with create_sealed(path, label) as f:
        f["values"] = np.asarray(values)
        f.attrs["note"] = "text in the global heap"
    return path


def test_the_shared_api_is_public():
    assert (datasets.create_sealed, datasets.open_sealed, datasets.BrokenSeal) == (create_sealed, open_sealed,
                                                                                   BrokenSeal)


def test_round_trip_and_header_layout(tmp_path):
    path = write(tmp_path / "f.h5")
    with open_sealed(path, LABEL) as f:
        np.testing.assert_array_equal(f["values"][...], [1, 2, 3])
        assert f.attrs["note"] == "text in the global heap"
    data = path.read_bytes()
    head, body = data[:sealed.HEADER_BYTES], data[sealed.HEADER_BYTES:]
    digest = hashlib.sha256(body).hexdigest()
    assert head == f"{LABEL}\nsha256 of the rest: {digest}\n".encode().ljust(sealed.HEADER_BYTES, b"\0")
    assert body.startswith(sealed.HDF5_SIGNATURE)


def flip_last_byte(data):
    return data[:-1] + bytes([data[-1] ^ 1])


@pytest.mark.parametrize("damage, reason", [
    (flip_last_byte, "does not match the SHA-256"),
    (lambda data: data[:len(data) // 2], "does not match the SHA-256"),
    (lambda data: data[:sealed.HEADER_BYTES] + bytes(len(data) - sealed.HEADER_BYTES), "does not match the SHA-256"),
    (lambda data: data[:sealed.HEADER_BYTES - 1] + b"\1" + data[sealed.HEADER_BYTES:], "does not match the SHA-256"),
    (lambda data: data.replace(b"format 7", b"format 6", 1), "starts with b'test file, format 6', not 'test file, "
                                                             "format 7' \\(another kind of file, another format"),
    (lambda data: b"", "starts with b''"),
])
def test_a_damaged_file_is_a_brokenseal_naming_it(tmp_path, damage, reason):
    path = write(tmp_path / "f.h5")
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(BrokenSeal, match=reason) as raised:
        open_sealed(path, LABEL)
    assert str(path) in str(raised.value) and raised.value.path == path and not raised.value.unsealed


def test_a_plain_hdf5_file_is_recognised_as_unsealed(tmp_path):
    with h5py.File(tmp_path / "plain.h5", "w") as f:
        f["values"] = [1, 2, 3]
    with pytest.raises(BrokenSeal, match="plain HDF5 file, without the SHA-256 header") as raised:
        open_sealed(tmp_path / "plain.h5", LABEL)
    assert raised.value.unsealed


def test_a_missing_file_is_a_brokenseal(tmp_path):
    with pytest.raises(BrokenSeal, match="cannot read it \\(FileNotFoundError"):
        open_sealed(tmp_path / "nowhere.h5", LABEL)


def test_a_damaged_file_never_reaches_h5py(tmp_path, monkeypatch):
    path = write(tmp_path / "f.h5")
    path.write_bytes(flip_last_byte(path.read_bytes()))
    monkeypatch.setattr(h5py, "File", lambda *args, **kwargs: pytest.fail("h5py opened an unverified file"))
    with pytest.raises(BrokenSeal):
        open_sealed(path, LABEL)


def test_a_label_must_fit_the_header(tmp_path):
    for label in ("two\nlines", "x" * sealed.HEADER_BYTES):
        with pytest.raises(ValueError, match="seal label must be one line"):
            write(tmp_path / "f.h5", label=label)
    assert not (tmp_path / "f.h5").exists()


def test_a_failed_block_leaves_an_unsealed_file_and_its_own_error(tmp_path):
    with pytest.raises(KeyError, match="on purpose"):
        with create_sealed(tmp_path / "f.h5", LABEL) as f:
            f["values"] = [1]
            raise KeyError("on purpose")
    assert (tmp_path / "f.h5").read_bytes()[:sealed.HEADER_BYTES] == bytes(sealed.HEADER_BYTES)


def swapping_verify(monkeypatch, replacement, times):
    """Make the next `times` verifications replace the file with a copy of `replacement` once they are done."""
    verify, swaps = sealed._verified, []

    def verify_then_swap(where, label):
        stat = verify(where, label)
        if len(swaps) < times:
            copy = where.with_name("copy.h5")
            copy.write_bytes(replacement.read_bytes())
            os.replace(copy, where)
            swaps.append(where)
        return stat
    monkeypatch.setattr(sealed, "_verified", verify_then_swap)
    return swaps


def test_a_file_replaced_after_verification_is_verified_again(tmp_path, monkeypatch):
    path, newer = write(tmp_path / "f.h5"), write(tmp_path / "newer.h5", values=(4, 5))
    swaps = swapping_verify(monkeypatch, newer, times=1)
    with open_sealed(path, LABEL) as f:
        np.testing.assert_array_equal(f["values"][...], [4, 5])
    assert swaps == [path]


def test_a_file_replaced_at_every_verification_is_refused(tmp_path, monkeypatch):
    path, newer = write(tmp_path / "f.h5"), write(tmp_path / "newer.h5", values=(4, 5))
    swapping_verify(monkeypatch, newer, times=sealed.OPEN_ATTEMPTS)
    with pytest.raises(BrokenSeal, match="replaced while being verified, 3 times in a row"):
        open_sealed(path, LABEL)
