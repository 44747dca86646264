"""Sealed blobs: personal data and private keys at rest under a KEK."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wuye import crypto

KEK = bytes(range(16))


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8 % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


@given(st.binary(max_size=100), st.binary(max_size=40))
def test_sealed_data_opens_with_the_same_kek_and_aad(plaintext, aad):
    assert crypto.open_sealed(KEK, crypto.seal(KEK, plaintext, aad), aad) == plaintext


def test_a_sealed_blob_starts_with_its_version():
    assert crypto.seal(KEK, b"13800138000")[0] == crypto.SEAL_VERSION


def test_sealing_twice_gives_different_blobs():
    assert crypto.seal(KEK, b"13800138000") != crypto.seal(KEK, b"13800138000")


def test_a_blob_copied_to_another_field_does_not_open():
    blob = crypto.seal(KEK, b"110101199003077777", b"owner:42:id_number")
    with pytest.raises(crypto.AuthenticationFailedError):
        crypto.open_sealed(KEK, blob, b"owner:43:id_number")


def test_a_blob_does_not_open_under_another_kek():
    blob = crypto.seal(KEK, b"13800138000")
    with pytest.raises(crypto.AuthenticationFailedError):
        crypto.open_sealed(crypto.generate_kek(), blob)


@given(st.integers(min_value=8))
def test_any_flipped_bit_after_the_version_fails_authentication(bit):
    blob = crypto.seal(KEK, b"13800138000", b"owner:42:phone")
    bit = 8 + bit % ((len(blob) - 1) * 8)
    with pytest.raises(crypto.AuthenticationFailedError):
        crypto.open_sealed(KEK, flip(blob, bit), b"owner:42:phone")


def test_an_unknown_version_is_malformed():
    blob = crypto.seal(KEK, b"13800138000")
    with pytest.raises(crypto.MalformedInputError, match="unknown version 2"):
        crypto.open_sealed(KEK, b"\x02" + blob[1:])


def test_a_truncated_blob_is_malformed():
    with pytest.raises(crypto.MalformedInputError, match="truncated"):
        crypto.open_sealed(KEK, crypto.seal(KEK, b"")[:-1])


def test_a_kek_of_the_wrong_length_is_malformed():
    with pytest.raises(crypto.MalformedInputError, match="KEK must be 16 bytes"):
        crypto.seal(b"short", b"13800138000")


@given(st.binary(max_size=60), st.binary(max_size=10))
def test_junk_blobs_raise_only_crypto_error(junk, aad):
    with pytest.raises(crypto.CryptoError):
        crypto.open_sealed(KEK, junk, aad)


def test_a_sealed_private_key_opens_to_the_same_key():
    key = crypto.SM2PrivateKey.generate()
    opened = crypto.open_private_key(crypto.seal_private_key(key, KEK), KEK)
    assert opened.to_hex() == key.to_hex()


def test_a_sealed_private_key_does_not_contain_the_key_in_clear():
    key = crypto.SM2PrivateKey.generate()
    blob = crypto.seal_private_key(key, KEK)
    assert bytes.fromhex(key.to_hex()) not in blob


def test_sealed_personal_data_is_not_a_sealed_private_key():
    blob = crypto.seal(KEK, crypto.SM2PrivateKey.generate().to_der())
    with pytest.raises(crypto.AuthenticationFailedError):
        crypto.open_private_key(blob, KEK)
