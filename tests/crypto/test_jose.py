"""The SM2 JOSE profile: JWS alg "SM2SM3" and SM2 JWKs, through Authlib."""

import base64
import warnings

import pytest
from authlib.deprecate import AuthlibDeprecationWarning
from cryptography.hazmat.primitives.asymmetric import ec as crypto_ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from wuye import crypto

with warnings.catch_warnings():
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)  # authlib.jose points to joserfc
    from authlib.jose import JsonWebSignature, JsonWebToken
    from authlib.jose.errors import BadSignatureError

crypto.register_sm2_jose()


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def test_jwt_signed_with_sm2_round_trips_through_authlib():
    key = crypto.SM2PrivateKey.generate()
    jwt = JsonWebToken(["SM2SM3"])
    token = jwt.encode({"alg": "SM2SM3"}, {"sub": "tenant-7", "scope": "estates"}, key)
    claims = jwt.decode(token, key.public_key)
    assert claims == {"sub": "tenant-7", "scope": "estates"}


def test_jwt_verifies_with_a_public_jwk_and_carries_the_kid():
    key = crypto.SM2PrivateKey.generate()
    jwt = JsonWebToken(["SM2SM3"])
    token = jwt.encode({"alg": "SM2SM3"}, {"sub": "tenant-7"}, crypto.sm2_jwk(key, kid="fed-1"))
    header = jwt.decode(token, {"keys": [crypto.sm2_jwk(key.public_key, kid="fed-1")]}).header
    assert header["kid"] == "fed-1"


def test_jws_compact_round_trips_with_pem_keys():
    key = crypto.SM2PrivateKey.generate()
    jws = JsonWebSignature(["SM2SM3"])
    compact = jws.serialize_compact({"alg": "SM2SM3"}, b"block 7", key.to_pem())
    assert jws.deserialize_compact(compact, key.public_key.to_pem())["payload"] == b"block 7"


def test_jws_signature_is_r_then_s_and_verifies_as_sm2():
    key = crypto.SM2PrivateKey.generate()
    compact = JsonWebSignature(["SM2SM3"]).serialize_compact({"alg": "SM2SM3"}, b"x", key)
    signing_input, signature = compact.rsplit(b".", 1)
    raw = b64url_decode(signature.decode())
    assert len(raw) == 64
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key.public_key.verify(der, signing_input)


def test_a_tampered_jwt_is_rejected():
    key = crypto.SM2PrivateKey.generate()
    jwt = JsonWebToken(["SM2SM3"])
    token = jwt.encode({"alg": "SM2SM3"}, {"sub": "tenant-7"}, key).decode()
    header, _, signature = token.split(".")
    forged = jwt.encode({"alg": "SM2SM3"}, {"sub": "tenant-8"}, key).decode().split(".")[1]
    with pytest.raises(BadSignatureError):
        jwt.decode(f"{header}.{forged}.{signature}", key.public_key)


def test_a_jwt_signed_by_another_key_is_rejected():
    jwt = JsonWebToken(["SM2SM3"])
    token = jwt.encode({"alg": "SM2SM3"}, {"sub": "x"}, crypto.SM2PrivateKey.generate())
    with pytest.raises(BadSignatureError):
        jwt.decode(token, crypto.SM2PrivateKey.generate().public_key)


def test_es256_stays_available_next_to_sm2sm3():
    p256 = crypto_ec.generate_private_key(crypto_ec.SECP256R1())
    jwt = JsonWebToken(["ES256", "SM2SM3"])
    token = jwt.encode({"alg": "ES256"}, {"sub": "x"}, p256)
    assert jwt.decode(token, p256.public_key())["sub"] == "x"


def test_registering_twice_is_harmless():
    crypto.register_sm2_jose()
    assert "SM2SM3" in JsonWebSignature.ALGORITHMS_REGISTRY


def test_jwk_of_a_public_key_round_trips():
    public = crypto.SM2PrivateKey.generate().public_key
    jwk = crypto.sm2_jwk(public)
    assert jwk["kty"] == "EC" and jwk["crv"] == "SM2" and "d" not in jwk
    assert crypto.load_sm2_jwk(jwk) == public


def test_jwk_of_a_private_key_round_trips():
    key = crypto.SM2PrivateKey.generate()
    loaded = crypto.load_sm2_jwk(crypto.sm2_jwk(key))
    assert isinstance(loaded, crypto.SM2PrivateKey)
    assert loaded.to_hex() == key.to_hex()


def test_jwk_whose_d_does_not_match_x_and_y_is_rejected():
    jwk = crypto.sm2_jwk(crypto.SM2PrivateKey.generate())
    jwk["d"] = crypto.sm2_jwk(crypto.SM2PrivateKey.generate())["d"]
    with pytest.raises(crypto.MalformedInputError, match="does not match"):
        crypto.load_sm2_jwk(jwk)


@pytest.mark.parametrize(
    "jwk",
    [
        {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"},
        {"kty": "OKP", "crv": "SM2"},
        {"kty": "EC", "crv": "SM2", "x": "not base64!", "y": "AA"},
        {"kty": "EC", "crv": "SM2", "x": "AA", "y": "AA"},
        {"kty": "EC", "crv": "SM2", "x": "A" * 43, "y": "A" * 43},
    ],
    ids=["other-curve", "other-kty", "bad-base64", "short-coordinates", "not-on-curve"],
)
def test_malformed_jwks_are_rejected(jwk):
    with pytest.raises(crypto.MalformedInputError):
        crypto.load_sm2_jwk(jwk)
