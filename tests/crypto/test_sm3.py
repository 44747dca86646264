"""SM3 (GB/T 32905-2016), HMAC-SM3 and the SM3 KDF."""

import hmac
from concurrent.futures import ThreadPoolExecutor

import pytest
from gmssl import sm3 as gmssl_sm3
from hypothesis import given
from hypothesis import strategies as st

from tests.crypto import vectors
from wuye import crypto
from wuye.crypto import sm3


def gmssl_hash(data: bytes) -> bytes:
    return bytes.fromhex(gmssl_sm3.sm3_hash(list(data)))


def reference_hmac(key: bytes, data: bytes) -> bytes:
    """RFC 2104 spelled out over gmssl's pure-Python SM3."""
    if len(key) > 64:
        key = gmssl_hash(key)
    key = key.ljust(64, b"\0")
    inner = gmssl_hash(bytes(b ^ 0x36 for b in key) + data)
    return gmssl_hash(bytes(b ^ 0x5C for b in key) + inner)


def test_sm3_of_abc_is_the_published_digest():
    assert crypto.sm3_hash(vectors.SM3_ABC).hex() == vectors.SM3_ABC_DIGEST


def test_sm3_of_the_64_byte_message_is_the_published_digest():
    assert crypto.sm3_hash(vectors.SM3_64_BYTES).hex() == vectors.SM3_64_BYTES_DIGEST


@pytest.mark.parametrize(
    "backend", [sm3._sm3_hash_hashlib, sm3._sm3_hash_cryptography], ids=["hashlib", "cryptography"]
)
def test_each_sm3_backend_gives_the_published_digests(backend):
    if backend is sm3._sm3_hash_hashlib and not sm3._HASHLIB_SM3:
        pytest.skip("this interpreter's OpenSSL has no SM3")
    assert backend(vectors.SM3_ABC).hex() == vectors.SM3_ABC_DIGEST
    assert backend(vectors.SM3_64_BYTES).hex() == vectors.SM3_64_BYTES_DIGEST


def test_sm3_digest_is_32_bytes_even_for_empty_input():
    assert len(crypto.sm3_hash(b"")) == crypto.SM3_DIGEST_SIZE


@given(st.binary(max_size=300))
def test_sm3_agrees_with_gmssl(data):
    assert crypto.sm3_hash(data) == gmssl_hash(data)


@given(st.lists(st.binary(max_size=100), max_size=6))
def test_incremental_sm3_equals_one_shot(pieces):
    hasher = crypto.sm3_hasher()
    for piece in pieces:
        hasher.update(piece)
    assert hasher.digest() == crypto.sm3_hash(b"".join(pieces))


def test_cryptography_hasher_digest_can_be_read_twice():
    hasher = sm3._sm3_hasher_cryptography()
    hasher.update(b"ab")
    first = hasher.digest()
    hasher.update(b"c")
    assert first == crypto.sm3_hash(b"ab")
    assert hasher.digest().hex() == vectors.SM3_ABC_DIGEST


def test_sm3_of_a_str_raises_malformed_input():
    with pytest.raises(crypto.MalformedInputError, match="data must be bytes"):
        crypto.sm3_hash("abc")  # type: ignore[arg-type]


@given(st.binary(max_size=100), st.binary(max_size=200))
def test_hmac_sm3_agrees_with_rfc_2104_over_gmssl(key, data):
    assert crypto.hmac_sm3(key, data) == reference_hmac(key, data)


def test_hmac_sm3_verify_accepts_the_right_tag():
    tag = crypto.hmac_sm3(b"k" * 32, b"reading 42")
    crypto.hmac_sm3_verify(b"k" * 32, b"reading 42", tag)


@given(st.integers(min_value=0, max_value=255))
def test_hmac_sm3_verify_rejects_any_flipped_bit(bit):
    tag = bytearray(crypto.hmac_sm3(b"k" * 32, b"reading 42"))
    tag[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(crypto.AuthenticationFailedError):
        crypto.hmac_sm3_verify(b"k" * 32, b"reading 42", bytes(tag))


def test_hmac_sm3_falls_back_to_cryptography(monkeypatch):
    expected = crypto.hmac_sm3(b"key", b"data")
    monkeypatch.setattr(sm3, "_HASHLIB_SM3", False)
    assert crypto.hmac_sm3(b"key", b"data") == expected
    assert hmac.compare_digest(expected, reference_hmac(b"key", b"data"))


@given(st.binary(min_size=1, max_size=80), st.integers(min_value=0, max_value=200))
def test_sm3_kdf_agrees_with_gmssl(z, length):
    # gmssl's KDF takes the hex text of Z and returns hex.
    expected = bytes.fromhex(gmssl_sm3.sm3_kdf(z.hex().encode(), length)) if length else b""
    assert crypto.sm3_kdf(z, length) == expected


def test_sm3_kdf_output_is_a_prefix_of_longer_output():
    assert crypto.sm3_kdf(b"shared", 70)[:40] == crypto.sm3_kdf(b"shared", 40)


def test_sm3_kdf_rejects_a_negative_length():
    with pytest.raises(crypto.MalformedInputError, match="KDF length"):
        crypto.sm3_kdf(b"z", -1)


def test_sm3_hash_accepts_bytearray_and_memoryview():
    assert crypto.sm3_hash(bytearray(vectors.SM3_ABC)).hex() == vectors.SM3_ABC_DIGEST
    assert crypto.sm3_hash(memoryview(vectors.SM3_ABC)).hex() == vectors.SM3_ABC_DIGEST


@pytest.mark.parametrize(
    "backend",
    [sm3._sm3_hasher_hashlib, sm3._sm3_hasher_cryptography],
    ids=["hashlib", "cryptography"],
)
def test_sm3_computations_start_fresh_whatever_ran_before(backend):
    # Every hash starts from a copy of one prepared context, which must never change.
    if backend is sm3._sm3_hasher_hashlib and not sm3._HASHLIB_SM3:
        pytest.skip("this interpreter's OpenSSL has no SM3")
    first, second = backend(), backend()
    first.update(b"left over")
    second.update(b"ab")
    crypto.sm3_hash(b"more left over")
    second.update(b"c")
    assert second.digest().hex() == vectors.SM3_ABC_DIGEST
    third = backend()
    third.update(vectors.SM3_ABC)
    assert third.digest().hex() == vectors.SM3_ABC_DIGEST


def test_sm3_from_many_threads_gives_every_thread_its_own_digests():
    messages = [i.to_bytes(2, "big") * (i % 300) for i in range(2000)]
    expected = [gmssl_hash(message) for message in messages[:200]]

    def work(offset: int) -> bool:
        digests = [crypto.sm3_hash(message) for message in messages]
        return digests[:200] == expected and all(
            crypto.sm3_hash(m) == d
            for m, d in zip(messages[offset::97], digests[offset::97], strict=True)
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(work, range(8)))
