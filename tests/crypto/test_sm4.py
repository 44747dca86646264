"""SM4 (GB/T 32907-2016): the block cipher, SM4-GCM and SM4-CBC with PKCS#7."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from gmssl import sm4 as gmssl_sm4
from hypothesis import given, settings
from hypothesis import strategies as st
from tongsuopy.crypto.ciphers.aead import SM4GCM as TongsuoSM4GCM

from tests.crypto import vectors
from wuye import crypto
from wuye.crypto import sm4

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


# -- SM4GCM, the per-key reusable object --------------------------------------------


def cryptography_gcm_encrypt(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """SM4-GCM in cryptography's own OpenSSL, a second library to check against."""
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    return encryptor.update(plaintext) + encryptor.finalize() + encryptor.tag


def cryptography_gcm_decrypt(key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, sealed[-16:])).decryptor()
    decryptor.authenticate_additional_data(aad)
    return decryptor.update(sealed[:-16]) + decryptor.finalize()


def test_sm4gcm_object_gives_the_rfc_8998_ciphertext_and_tag():
    gcm = crypto.SM4GCM(vectors.GCM_KEY)
    sealed = gcm.encrypt(vectors.GCM_NONCE, vectors.GCM_PLAINTEXT, vectors.GCM_AAD)
    assert sealed == vectors.GCM_CIPHERTEXT + vectors.GCM_TAG


def test_sm4gcm_object_decrypts_the_rfc_8998_example():
    gcm = crypto.SM4GCM(vectors.GCM_KEY)
    data = vectors.GCM_CIPHERTEXT + vectors.GCM_TAG
    assert gcm.decrypt(vectors.GCM_NONCE, data, vectors.GCM_AAD) == vectors.GCM_PLAINTEXT


@given(keys, nonces, st.binary(max_size=600), st.binary(max_size=40))
def test_sm4gcm_object_round_trips(key, nonce, plaintext, aad):
    gcm = crypto.SM4GCM(key)
    sealed = gcm.encrypt(nonce, plaintext, aad)
    assert len(sealed) == len(plaintext) + crypto.SM4_GCM_TAG_SIZE
    assert gcm.decrypt(nonce, sealed, aad) == plaintext


@given(keys, nonces, st.binary(max_size=300), st.binary(max_size=40))
def test_sm4gcm_object_and_one_shot_functions_agree_both_ways(key, nonce, plaintext, aad):
    gcm = crypto.SM4GCM(key)
    sealed = gcm.encrypt(nonce, plaintext, aad)
    assert sealed == crypto.sm4_gcm_encrypt(key, nonce, plaintext, aad)
    assert crypto.sm4_gcm_decrypt(key, nonce, sealed, aad) == plaintext


@given(keys, nonces, st.binary(max_size=300), st.binary(max_size=40))
def test_sm4_gcm_agrees_with_cryptography_both_ways(key, nonce, plaintext, aad):
    gcm = crypto.SM4GCM(key)
    assert cryptography_gcm_decrypt(key, nonce, gcm.encrypt(nonce, plaintext, aad), aad) == (
        plaintext
    )
    theirs = cryptography_gcm_encrypt(key, nonce, plaintext, aad)
    assert gcm.decrypt(nonce, theirs, aad) == plaintext
    assert crypto.sm4_gcm_decrypt(key, nonce, theirs, aad) == plaintext


@given(keys, st.lists(st.tuples(nonces, st.binary(max_size=100), st.binary(max_size=20))))
def test_sm4gcm_object_gives_each_message_its_own_result_in_any_order(key, messages):
    # One context serves every message, in both directions: nothing may carry over.
    gcm = crypto.SM4GCM(key)
    sealed = [gcm.encrypt(nonce, plaintext, aad) for nonce, plaintext, aad in messages]
    for (nonce, plaintext, aad), data in zip(reversed(messages), reversed(sealed), strict=True):
        assert data == cryptography_gcm_encrypt(key, nonce, plaintext, aad)
        assert gcm.decrypt(nonce, data, aad) == plaintext
        assert gcm.encrypt(nonce, plaintext, aad) == data


@given(st.binary(min_size=1, max_size=64), st.integers(min_value=0))
def test_sm4gcm_object_rejects_any_flipped_bit_of_ciphertext_or_tag(plaintext, bit):
    gcm = crypto.SM4GCM(vectors.GCM_KEY)
    sealed = gcm.encrypt(vectors.GCM_NONCE, plaintext)
    with pytest.raises(crypto.AuthenticationFailedError, match="authentication failed"):
        gcm.decrypt(vectors.GCM_NONCE, flip(sealed, bit))


@given(st.binary(min_size=1, max_size=32), st.integers(min_value=0))
def test_sm4gcm_object_rejects_any_flipped_bit_of_aad(aad, bit):
    gcm = crypto.SM4GCM(vectors.GCM_KEY)
    sealed = gcm.encrypt(vectors.GCM_NONCE, b"13800138000", aad)
    with pytest.raises(crypto.AuthenticationFailedError):
        gcm.decrypt(vectors.GCM_NONCE, sealed, flip(aad, bit))


def test_sm4gcm_object_rejects_a_different_nonce():
    gcm = crypto.SM4GCM(vectors.GCM_KEY)
    sealed = gcm.encrypt(vectors.GCM_NONCE, b"payload")
    with pytest.raises(crypto.AuthenticationFailedError):
        gcm.decrypt(flip(vectors.GCM_NONCE, 0), sealed)


def test_sm4gcm_object_rejects_data_sealed_under_another_key():
    sealed = crypto.SM4GCM(vectors.GCM_KEY).encrypt(vectors.GCM_NONCE, b"payload")
    with pytest.raises(crypto.AuthenticationFailedError):
        crypto.SM4GCM(bytes(16)).decrypt(vectors.GCM_NONCE, sealed)


def test_sm4gcm_object_still_decrypts_after_rejecting_a_forgery():
    gcm = crypto.SM4GCM(vectors.GCM_KEY)
    sealed = gcm.encrypt(vectors.GCM_NONCE, b"payload", b"header")
    with pytest.raises(crypto.AuthenticationFailedError):
        gcm.decrypt(vectors.GCM_NONCE, flip(sealed, 3), b"header")
    assert gcm.decrypt(vectors.GCM_NONCE, sealed, b"header") == b"payload"


def test_sm4gcm_object_seals_an_empty_message_as_a_bare_tag():
    gcm = crypto.SM4GCM(vectors.GCM_KEY)
    sealed = gcm.encrypt(vectors.GCM_NONCE, b"", b"only authenticated")
    assert sealed == cryptography_gcm_encrypt(
        vectors.GCM_KEY, vectors.GCM_NONCE, b"", b"only authenticated"
    )
    assert gcm.decrypt(vectors.GCM_NONCE, sealed, b"only authenticated") == b""


def test_sm4gcm_object_accepts_bytes_like_arguments():
    gcm = crypto.SM4GCM(bytearray(vectors.GCM_KEY))
    sealed = gcm.encrypt(
        memoryview(vectors.GCM_NONCE), bytearray(vectors.GCM_PLAINTEXT), memoryview(vectors.GCM_AAD)
    )
    assert sealed == vectors.GCM_CIPHERTEXT + vectors.GCM_TAG
    opened = gcm.decrypt(
        bytearray(vectors.GCM_NONCE), memoryview(sealed), bytearray(vectors.GCM_AAD)
    )
    assert opened == vectors.GCM_PLAINTEXT


@given(keys, nonces, st.binary(max_size=100), st.binary(max_size=20))
def test_sm4gcm_object_feeds_long_inputs_in_slices(key, nonce, plaintext, aad):
    # Inputs over 2**30 bytes go to OpenSSL in slices; shrink the slice to test that path.
    gcm = crypto.SM4GCM(key)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sm4, "_MAX_UPDATE", 7)
        sealed = gcm.encrypt(nonce, plaintext, aad)
        assert gcm.decrypt(nonce, sealed, aad) == plaintext
    assert sealed == cryptography_gcm_encrypt(key, nonce, plaintext, aad)


@pytest.mark.parametrize("size", [1007, 1008, 1009, 1024, 1025, 1040, 1041, 5000])
def test_sm4gcm_object_handles_messages_either_side_of_its_own_buffer(size):
    # Small output goes through the object's reused buffer, larger through a new one.
    gcm = crypto.SM4GCM(vectors.GCM_KEY)
    plaintext = bytes(range(256)) * (size // 256) + bytes(size % 256)
    sealed = gcm.encrypt(vectors.GCM_NONCE, plaintext, b"aad")
    assert sealed == cryptography_gcm_encrypt(vectors.GCM_KEY, vectors.GCM_NONCE, plaintext, b"aad")
    assert gcm.decrypt(vectors.GCM_NONCE, sealed, b"aad") == plaintext
    with pytest.raises(crypto.AuthenticationFailedError):
        gcm.decrypt(vectors.GCM_NONCE, flip(sealed, 8 * size - 1), b"aad")


def test_sm4gcm_object_results_do_not_change_when_it_is_used_again():
    gcm = crypto.SM4GCM(vectors.GCM_KEY)
    first = gcm.encrypt(vectors.GCM_NONCE, b"first payload")
    opened = gcm.decrypt(vectors.GCM_NONCE, first)
    gcm.encrypt(flip(vectors.GCM_NONCE, 1), b"second payload, longer")
    assert gcm.decrypt(vectors.GCM_NONCE, first) == opened == b"first payload"
    assert first == cryptography_gcm_encrypt(
        vectors.GCM_KEY, vectors.GCM_NONCE, b"first payload", b""
    )


@pytest.mark.parametrize("length", [0, 15, 17, 24, 32])
def test_sm4gcm_object_rejects_a_key_that_is_not_16_bytes(length):
    with pytest.raises(crypto.MalformedInputError, match="SM4 key must be 16 bytes"):
        crypto.SM4GCM(b"k" * length)


@pytest.mark.parametrize("length", [0, 8, 11, 13, 16])
def test_sm4gcm_object_rejects_a_nonce_that_is_not_12_bytes(length):
    gcm = crypto.SM4GCM(vectors.GCM_KEY)
    with pytest.raises(crypto.MalformedInputError, match="nonce must be 12 bytes"):
        gcm.encrypt(b"n" * length, b"x")
    with pytest.raises(crypto.MalformedInputError, match="nonce must be 12 bytes"):
        gcm.decrypt(b"n" * length, bytes(32))


def test_sm4gcm_object_data_shorter_than_a_tag_is_malformed():
    with pytest.raises(crypto.MalformedInputError, match="truncated"):
        crypto.SM4GCM(vectors.GCM_KEY).decrypt(vectors.GCM_NONCE, b"\0" * 15)


@pytest.mark.parametrize("argument", ["plaintext", "aad"])
def test_sm4gcm_object_rejects_text_where_bytes_belong(argument):
    arguments = {"plaintext": b"x", "aad": b""} | {argument: "text"}
    with pytest.raises(crypto.MalformedInputError, match=f"{argument} must be bytes"):
        crypto.SM4GCM(vectors.GCM_KEY).encrypt(vectors.GCM_NONCE, **arguments)


@given(st.binary(max_size=14), st.binary(max_size=80), st.binary(max_size=20))
def test_sm4gcm_object_decrypt_of_junk_raises_only_crypto_error(nonce, data, aad):
    with pytest.raises(crypto.CryptoError):
        crypto.SM4GCM(vectors.GCM_KEY).decrypt(nonce, data, aad)


def test_sm4gcm_object_repr_hides_the_key():
    assert vectors.GCM_KEY.hex() not in repr(crypto.SM4GCM(vectors.GCM_KEY))


def test_sm4gcm_object_shared_by_threads_gives_every_thread_its_own_results():
    gcm = crypto.SM4GCM(vectors.GCM_KEY)

    def work(worker: int) -> bool:
        for i in range(300):
            nonce = worker.to_bytes(4, "big") + i.to_bytes(8, "big")
            plaintext = bytes([worker]) * (i % 200)
            aad = i.to_bytes(2, "big")
            sealed = gcm.encrypt(nonce, plaintext, aad)
            if sealed != cryptography_gcm_encrypt(vectors.GCM_KEY, nonce, plaintext, aad):
                return False
            if gcm.decrypt(nonce, sealed, aad) != plaintext:
                return False
            with pytest.raises(crypto.AuthenticationFailedError):
                gcm.decrypt(nonce, flip(sealed, i), aad)
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(work, range(8)))


def test_one_shot_gcm_from_threads_under_more_keys_than_it_caches():
    keys_in_use = [i.to_bytes(16, "big") for i in range(3 * sm4._ONE_SHOT_CACHE_SIZE)]

    def work(worker: int) -> bool:
        for i, key in enumerate(keys_in_use[worker::2] + keys_in_use[::-3]):
            nonce = worker.to_bytes(4, "big") + i.to_bytes(8, "big")
            plaintext = key * (worker + 1)
            sealed = crypto.sm4_gcm_encrypt(key, nonce, plaintext, b"aad")
            if sealed != cryptography_gcm_encrypt(key, nonce, plaintext, b"aad"):
                return False
            if crypto.sm4_gcm_decrypt(key, nonce, sealed, b"aad") != plaintext:
                return False
        return True

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert all(pool.map(work, range(6)))
