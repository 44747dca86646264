"""SM4 (GB/T 32907-2016): the block cipher, SM4-GCM and SM4-CBC with PKCS#7."""

import pytest
from gmssl import sm4 as gmssl_sm4
from hypothesis import given, settings
from hypothesis import strategies as st
from tongsuopy.crypto.ciphers.aead import SM4GCM as TongsuoSM4GCM

from tests.crypto import vectors
from wuye import crypto

keys = st.binary(min_size=16, max_size=16)
nonces = st.binary(min_size=12, max_size=12)


def gmssl_cbc(key: bytes, iv: bytes, data: bytes, mode: int) -> bytes:
    cipher = gmssl_sm4.CryptSM4()
    cipher.set_key(key, mode)
    return bytes(cipher.crypt_cbc(iv, data))


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8 % len(out)] ^= 1 << (bit % 8)
    return bytes(out)


# -- the block cipher ---------------------------------------------------------------


def test_sm4_encrypts_the_published_block():
    cipher = crypto.SM4BlockCipher(vectors.SM4_KEY)
    assert cipher.encrypt_block(vectors.SM4_PLAINTEXT) == vectors.SM4_CIPHERTEXT


def test_sm4_decrypts_the_published_block():
    cipher = crypto.SM4BlockCipher(vectors.SM4_KEY)
    assert cipher.decrypt_block(vectors.SM4_CIPHERTEXT) == vectors.SM4_PLAINTEXT


def test_sm4_encrypting_a_million_times_gives_the_published_block():
    cipher = crypto.SM4BlockCipher(vectors.SM4_KEY)
    block = vectors.SM4_PLAINTEXT
    for _ in range(1_000_000):
        block = cipher.encrypt_block(block)
    assert block == vectors.SM4_MILLION_CIPHERTEXT


def test_sm4_block_cipher_rejects_a_short_block():
    with pytest.raises(crypto.MalformedInputError, match="SM4 block must be 16 bytes"):
        crypto.SM4BlockCipher(vectors.SM4_KEY).encrypt_block(b"short")


def test_sm4_block_cipher_repr_hides_the_key():
    assert vectors.SM4_KEY.hex() not in repr(crypto.SM4BlockCipher(vectors.SM4_KEY))


# -- SM4-GCM ------------------------------------------------------------------------


def test_sm4_gcm_gives_the_rfc_8998_ciphertext_and_tag():
    sealed = crypto.sm4_gcm_encrypt(
        vectors.GCM_KEY, vectors.GCM_NONCE, vectors.GCM_PLAINTEXT, vectors.GCM_AAD
    )
    assert sealed == vectors.GCM_CIPHERTEXT + vectors.GCM_TAG


def test_sm4_gcm_decrypts_the_rfc_8998_example():
    data = vectors.GCM_CIPHERTEXT + vectors.GCM_TAG
    plaintext = crypto.sm4_gcm_decrypt(vectors.GCM_KEY, vectors.GCM_NONCE, data, vectors.GCM_AAD)
    assert plaintext == vectors.GCM_PLAINTEXT


@given(keys, nonces, st.binary(max_size=200), st.binary(max_size=40))
def test_sm4_gcm_round_trips(key, nonce, plaintext, aad):
    sealed = crypto.sm4_gcm_encrypt(key, nonce, plaintext, aad)
    assert len(sealed) == len(plaintext) + crypto.SM4_GCM_TAG_SIZE
    assert crypto.sm4_gcm_decrypt(key, nonce, sealed, aad) == plaintext


@given(keys, nonces, st.binary(max_size=100), st.binary(max_size=20))
def test_sm4_gcm_agrees_with_tongsuo_both_ways(key, nonce, plaintext, aad):
    tongsuo = TongsuoSM4GCM(key)
    ours = crypto.sm4_gcm_encrypt(key, nonce, plaintext, aad)
    assert tongsuo.decrypt(nonce, ours, aad) == plaintext
    assert crypto.sm4_gcm_decrypt(key, nonce, tongsuo.encrypt(nonce, plaintext, aad), aad) == (
        plaintext
    )


@given(st.binary(min_size=1, max_size=64), st.integers(min_value=0))
def test_sm4_gcm_rejects_any_flipped_bit_of_ciphertext_or_tag(plaintext, bit):
    sealed = crypto.sm4_gcm_encrypt(vectors.GCM_KEY, vectors.GCM_NONCE, plaintext)
    with pytest.raises(crypto.AuthenticationFailedError):
        crypto.sm4_gcm_decrypt(vectors.GCM_KEY, vectors.GCM_NONCE, flip(sealed, bit))


@given(st.binary(min_size=1, max_size=32), st.integers(min_value=0))
def test_sm4_gcm_rejects_any_flipped_bit_of_aad(aad, bit):
    sealed = crypto.sm4_gcm_encrypt(vectors.GCM_KEY, vectors.GCM_NONCE, b"13800138000", aad)
    with pytest.raises(crypto.AuthenticationFailedError):
        crypto.sm4_gcm_decrypt(vectors.GCM_KEY, vectors.GCM_NONCE, sealed, flip(aad, bit))


@given(st.integers(min_value=0, max_value=95))
def test_sm4_gcm_rejects_any_flipped_bit_of_the_nonce(bit):
    sealed = crypto.sm4_gcm_encrypt(vectors.GCM_KEY, vectors.GCM_NONCE, b"payload")
    with pytest.raises(crypto.AuthenticationFailedError):
        crypto.sm4_gcm_decrypt(vectors.GCM_KEY, flip(vectors.GCM_NONCE, bit), sealed)


def test_sm4_gcm_decrypt_with_the_wrong_key_fails_authentication():
    sealed = crypto.sm4_gcm_encrypt(vectors.GCM_KEY, vectors.GCM_NONCE, b"payload")
    with pytest.raises(crypto.AuthenticationFailedError, match="authentication failed"):
        crypto.sm4_gcm_decrypt(bytes(16), vectors.GCM_NONCE, sealed)


def test_sm4_gcm_data_shorter_than_a_tag_is_malformed():
    with pytest.raises(crypto.MalformedInputError, match="truncated"):
        crypto.sm4_gcm_decrypt(vectors.GCM_KEY, vectors.GCM_NONCE, b"\0" * 15)


@pytest.mark.parametrize("length", [0, 15, 17, 24, 32])
def test_sm4_gcm_rejects_a_key_that_is_not_16_bytes(length):
    with pytest.raises(crypto.MalformedInputError, match="SM4 key must be 16 bytes"):
        crypto.sm4_gcm_encrypt(b"k" * length, vectors.GCM_NONCE, b"x")


@pytest.mark.parametrize("length", [0, 8, 11, 13, 16])
def test_sm4_gcm_rejects_a_nonce_that_is_not_12_bytes(length):
    with pytest.raises(crypto.MalformedInputError, match="nonce must be 12 bytes"):
        crypto.sm4_gcm_encrypt(vectors.GCM_KEY, b"n" * length, b"x")


@given(st.binary(max_size=20), st.binary(max_size=14), st.binary(max_size=80), st.binary())
def test_sm4_gcm_decrypt_of_junk_raises_only_crypto_error(key, nonce, data, aad):
    with pytest.raises(crypto.CryptoError):
        crypto.sm4_gcm_decrypt(key, nonce, data, aad)


# -- SM4-CBC ------------------------------------------------------------------------


@given(keys, st.binary(min_size=16, max_size=16), st.binary(max_size=100))
def test_sm4_cbc_round_trips(key, iv, plaintext):
    ciphertext = crypto.sm4_cbc_encrypt(key, iv, plaintext)
    assert len(ciphertext) == (len(plaintext) // 16 + 1) * 16
    assert crypto.sm4_cbc_decrypt(key, iv, ciphertext) == plaintext


@settings(max_examples=40)
@given(keys, st.binary(min_size=16, max_size=16), st.binary(max_size=100))
def test_sm4_cbc_agrees_with_gmssl_both_ways(key, iv, plaintext):
    # gmssl's CBC applies and strips PKCS#7 padding, as ours does.
    ours = crypto.sm4_cbc_encrypt(key, iv, plaintext)
    assert gmssl_cbc(key, iv, ours, gmssl_sm4.SM4_DECRYPT) == plaintext
    theirs = gmssl_cbc(key, iv, plaintext, gmssl_sm4.SM4_ENCRYPT)
    assert crypto.sm4_cbc_decrypt(key, iv, theirs) == plaintext


@pytest.mark.parametrize("length", [0, 1, 15, 17])
def test_sm4_cbc_rejects_a_ciphertext_that_is_not_whole_blocks(length):
    with pytest.raises(crypto.MalformedInputError, match="multiple of 16"):
        crypto.sm4_cbc_decrypt(vectors.SM4_KEY, bytes(16), b"c" * length)


def test_sm4_cbc_rejects_bad_padding():
    block = crypto.SM4BlockCipher(vectors.SM4_KEY).encrypt_block(b"no padding here!")
    with pytest.raises(crypto.MalformedInputError, match="PKCS#7"):
        crypto.sm4_cbc_decrypt(vectors.SM4_KEY, bytes(16), block)


def test_sm4_cbc_rejects_an_iv_that_is_not_16_bytes():
    with pytest.raises(crypto.MalformedInputError, match="IV must be 16 bytes"):
        crypto.sm4_cbc_encrypt(vectors.SM4_KEY, bytes(12), b"x")


@given(st.binary(max_size=20), st.binary(max_size=20), st.binary(max_size=80))
def test_sm4_cbc_decrypt_of_junk_returns_bytes_or_raises_crypto_error(key, iv, data):
    try:
        assert isinstance(crypto.sm4_cbc_decrypt(key, iv, data), bytes)
    except crypto.CryptoError:
        pass
