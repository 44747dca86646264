"""SM2 key agreement (GB/T 32918.3-2016) between a device and the platform."""

import pytest
from gmssl import sm2 as gmssl_sm2
from gmssl import sm3 as gmssl_sm3
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from wuye import crypto

N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
W = 127


def x_bar(public: crypto.SM2PublicKey) -> int:
    x = int(public.to_hex()[2:66], 16)
    return 2**W + (x & (2**W - 1))


def agree(device_uid: bytes = b"device-0042", length: int = 16):
    """Run both sides; return (device result, platform result) and the keys used."""
    device_key, platform_key = crypto.SM2PrivateKey.generate(), crypto.SM2PrivateKey.generate()
    device = crypto.SM2KeyExchange(device_key, initiator=True, uid=device_uid)
    platform = crypto.SM2KeyExchange(platform_key, initiator=False)
    platform_side = platform.derive(
        device_key.public_key, device.ephemeral_public_key, peer_uid=device_uid, length=length
    )
    device_side = device.derive(
        platform_key.public_key, platform.ephemeral_public_key, length=length
    )
    return device_side, platform_side


def test_both_sides_derive_the_same_key():
    device_side, platform_side = agree()
    assert device_side.key == platform_side.key
    assert len(device_side.key) == 16


def test_each_side_accepts_the_others_confirmation():
    device_side, platform_side = agree()
    device_side.verify_peer_confirmation(platform_side.confirmation)  # S_B, step A9
    platform_side.verify_peer_confirmation(device_side.confirmation)  # S_A, step B10


def test_the_two_confirmations_differ():
    device_side, platform_side = agree()
    assert device_side.confirmation != platform_side.confirmation


def test_a_side_rejects_its_own_confirmation_reflected_back():
    device_side, _ = agree()
    with pytest.raises(crypto.AuthenticationFailedError):
        device_side.verify_peer_confirmation(device_side.confirmation)


def test_disagreeing_on_a_user_id_gives_different_keys_and_failed_confirmation():
    device_key, platform_key = crypto.SM2PrivateKey.generate(), crypto.SM2PrivateKey.generate()
    device = crypto.SM2KeyExchange(device_key, initiator=True, uid=b"device-0042")
    platform = crypto.SM2KeyExchange(platform_key, initiator=False)
    platform_side = platform.derive(
        device_key.public_key, device.ephemeral_public_key, peer_uid=b"device-0043"
    )
    device_side = device.derive(platform_key.public_key, platform.ephemeral_public_key)
    assert device_side.key != platform_side.key
    with pytest.raises(crypto.AuthenticationFailedError):
        device_side.verify_peer_confirmation(platform_side.confirmation)


def test_an_impostor_static_key_gives_a_different_key():
    device_key, platform_key = crypto.SM2PrivateKey.generate(), crypto.SM2PrivateKey.generate()
    impostor = crypto.SM2PrivateKey.generate()
    device = crypto.SM2KeyExchange(impostor, initiator=True)
    platform = crypto.SM2KeyExchange(platform_key, initiator=False)
    platform_side = platform.derive(device_key.public_key, device.ephemeral_public_key)
    device_side = device.derive(platform_key.public_key, platform.ephemeral_public_key)
    assert device_side.key != platform_side.key


@given(st.integers(min_value=1, max_value=100))
@settings(max_examples=10, deadline=None)
def test_key_length_is_what_was_asked(length):
    device_side, platform_side = agree(length=length)
    assert len(device_side.key) == length
    assert device_side.key == platform_side.key


def test_an_exchange_derives_only_once():
    key, peer = crypto.SM2PrivateKey.generate(), crypto.SM2PrivateKey.generate()
    exchange = crypto.SM2KeyExchange(key, initiator=True)
    exchange.derive(peer.public_key, crypto.SM2PrivateKey.generate().public_key)
    with pytest.raises(crypto.CryptoError, match="already been used"):
        exchange.derive(peer.public_key, crypto.SM2PrivateKey.generate().public_key)


def test_a_zero_length_key_is_malformed():
    exchange = crypto.SM2KeyExchange(crypto.SM2PrivateKey.generate(), initiator=True)
    peer = crypto.SM2PrivateKey.generate().public_key
    with pytest.raises(crypto.MalformedInputError, match="length"):
        exchange.derive(peer, peer, length=0)


def test_agreed_key_repr_hides_the_key():
    device_side, _ = agree()
    assert device_side.key.hex() not in repr(device_side)


@settings(max_examples=5, deadline=None)
@given(st.binary(min_size=1, max_size=20))
def test_responder_key_matches_an_independent_computation_over_gmssl(device_uid):
    """B's K_B and S_B recomputed from clause 6.1 with gmssl's pure-Python point arithmetic."""
    device_key, platform_key = crypto.SM2PrivateKey.generate(), crypto.SM2PrivateKey.generate()
    device_ephemeral, platform_ephemeral = (
        crypto.SM2PrivateKey.generate(),
        crypto.SM2PrivateKey.generate(),
    )
    platform = crypto.SM2KeyExchange(platform_key, initiator=False, _ephemeral=platform_ephemeral)
    ours = platform.derive(
        device_key.public_key, device_ephemeral.public_key, peer_uid=device_uid, length=32
    )

    r_a, r_b = device_ephemeral.public_key, platform_ephemeral.public_key
    t_b = (platform_key.to_int() + x_bar(r_b) * platform_ephemeral.to_int()) % N  # B4
    curve = gmssl_sm2.CryptSM2(private_key=None, public_key=device_key.public_key.to_hex()[2:])
    try:
        x_bar_r_a = curve._kg(x_bar(r_a), r_a.to_hex()[2:])
        sum_point = curve._convert_jacb_to_nor(
            curve._add_point(x_bar_r_a, device_key.public_key.to_hex()[2:])
        )
        v = bytes.fromhex(curve._kg(t_b, sum_point))  # B5: V = [t_B](P_A + [x̄1]R_A)
    except (TypeError, ValueError):
        # gmssl's Jacobian arithmetic fails for about one scalar in a hundred.
        assume(False)
    z_a = device_key.public_key.z_value(device_uid)
    z_b = platform_key.public_key.z_value()
    expected_key = bytes.fromhex(gmssl_sm3.sm3_kdf((v + z_a + z_b).hex().encode(), 32))  # B6

    def h(data: bytes) -> bytes:
        return bytes.fromhex(gmssl_sm3.sm3_hash(list(data)))

    inner = h(v[:32] + z_a + z_b + r_a.to_bytes()[1:] + r_b.to_bytes()[1:])
    assert ours.key == expected_key
    assert ours.confirmation == h(b"\x02" + v[32:] + inner)  # S_B, step B8
