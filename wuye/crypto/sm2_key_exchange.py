"""SM2 key agreement (GB/T 32918.3-2016), for deriving per-device session keys.

Two parties, each with a static SM2 key pair and a user ID, swap one ephemeral
public point each and derive the same secret key; optional confirmation
values (clause 6.1 steps B8, A9, A10, B10) prove to each side that the other
derived it too. The party that starts is the initiator, A; the other is the
responder, B. Both sides must agree on who is who: Z_A is always hashed before
Z_B.

    device = SM2KeyExchange(device_key, initiator=True, uid=b"device-0042")
    platform = SM2KeyExchange(platform_key, initiator=False)
    # exchange public keys, user IDs and ephemeral_public_key values, then:
    platform_side = platform.derive(device_key.public_key, device.ephemeral_public_key,
                                    peer_uid=b"device-0042")
    device_side = device.derive(platform_key.public_key, platform.ephemeral_public_key)
    device_side.verify_peer_confirmation(platform_side.confirmation)   # S_B, step A9
    platform_side.verify_peer_confirmation(device_side.confirmation)   # S_A, step B10
"""

from __future__ import annotations

import hmac

from wuye.crypto import _ec
from wuye.crypto._util import require_bytes
from wuye.crypto.errors import AuthenticationFailedError, CryptoError, MalformedInputError
from wuye.crypto.sm2 import DEFAULT_UID, SM2PrivateKey, SM2PublicKey
from wuye.crypto.sm3 import sm3_hash, sm3_kdf

__all__ = ["SM2AgreedKey", "SM2KeyExchange"]

# GB/T 32918.3-2016, 6.1: w = ceil(ceil(log2(n)) / 2) - 1, which is 127 for the recommended n.
_W = -(-((_ec.N - 1).bit_length()) // 2) - 1
_HALF_MASK = (1 << _W) - 1
_MAX_KEY_LENGTH = 2**20


def _x_bar(point: _ec.Point) -> int:
    """``x̄ = 2^w + (x & (2^w - 1))`` (clause 6.1, steps A4 and B3)."""
    x, _ = point.coordinates()
    return (1 << _W) + (int.from_bytes(x, "big") & _HALF_MASK)


class SM2AgreedKey:
    """The outcome of one side of a key agreement.

    ``key`` is the shared secret (K_A = K_B). ``confirmation`` is this side's
    confirmation value to send to the peer (S_B from the responder, S_A from the
    initiator); :meth:`verify_peer_confirmation` checks the value the peer sends.
    """

    __slots__ = ("_expected", "confirmation", "key")

    def __init__(self, key: bytes, confirmation: bytes, expected_peer_confirmation: bytes) -> None:
        self.key = key
        self.confirmation = confirmation
        self._expected = expected_peer_confirmation

    def verify_peer_confirmation(self, confirmation: bytes) -> None:
        """Check the peer's confirmation value (step A9 for S_B, step B10 for S_A).

        Raises:
            AuthenticationFailedError: the peer derived a different key, or is not
                who it claims to be.
        """
        confirmation = require_bytes("confirmation", confirmation)
        if not hmac.compare_digest(confirmation, self._expected):
            raise AuthenticationFailedError("SM2 key agreement confirmation does not match")

    def __repr__(self) -> str:
        return "<SM2AgreedKey (key hidden)>"


class SM2KeyExchange:
    """One side of one SM2 key agreement; a fresh ephemeral key each time, used once."""

    __slots__ = ("_ephemeral", "_ephemeral_public", "_initiator", "_private_key", "_uid")

    def __init__(
        self,
        private_key: SM2PrivateKey,
        *,
        initiator: bool,
        uid: bytes = DEFAULT_UID,
        _ephemeral: SM2PrivateKey | None = None,
    ) -> None:
        if not isinstance(private_key, SM2PrivateKey):
            raise MalformedInputError("private_key must be an SM2PrivateKey")
        self._private_key = private_key
        self._initiator = bool(initiator)
        self._uid = require_bytes("uid", uid)
        private_key.public_key.z_value(self._uid)  # rejects an over-long user ID now
        # Steps A1-A2 / B1-B2: r in [1, n-1], R = [r]G.
        self._ephemeral: SM2PrivateKey | None = _ephemeral or SM2PrivateKey.generate()
        self._ephemeral_public = self._ephemeral.public_key

    def __repr__(self) -> str:
        role = "initiator" if self._initiator else "responder"
        return f"<SM2KeyExchange {role} for {self._private_key.public_key.to_hex()[:18]}...>"

    @property
    def ephemeral_public_key(self) -> SM2PublicKey:
        """R_A or R_B: the point to send to the peer."""
        return self._ephemeral_public

    def derive(
        self,
        peer_public_key: SM2PublicKey,
        peer_ephemeral_public_key: SM2PublicKey,
        *,
        peer_uid: bytes = DEFAULT_UID,
        length: int = 16,
    ) -> SM2AgreedKey:
        """Derive ``length`` bytes of shared key from the peer's static and ephemeral points.

        Clause 6.1 steps A4-A10 (initiator) or B3-B10 (responder). The ephemeral
        private key is discarded afterwards: an exchange derives once.

        Raises:
            MalformedInputError: bad argument types or length.
            CryptoError: the shared point is the point at infinity (steps A6/B5),
                or this exchange was already used.
        """
        if not isinstance(peer_public_key, SM2PublicKey) or not isinstance(
            peer_ephemeral_public_key, SM2PublicKey
        ):
            raise MalformedInputError("peer keys must be SM2PublicKey objects")
        if not isinstance(length, int) or isinstance(length, bool):
            raise MalformedInputError("length must be an int")
        if not 1 <= length <= _MAX_KEY_LENGTH:
            raise MalformedInputError(f"length must be between 1 and {_MAX_KEY_LENGTH} bytes")
        peer_uid = require_bytes("peer_uid", peer_uid)
        ephemeral = self._ephemeral
        if ephemeral is None:
            raise CryptoError("this SM2 key exchange has already been used")
        self._ephemeral = None

        own_r = ephemeral.public_key.point
        peer_r = peer_ephemeral_public_key.point
        # A4-A5 / B3-B4: t = (d + x̄ · r) mod n.
        t = (self._private_key.to_int() + _x_bar(own_r) * ephemeral.to_int()) % _ec.N
        # A6-A7 / B5: U = [h · t](P_peer + [x̄_peer] R_peer), h = 1.
        shared = peer_public_key.point.add(peer_r.multiply(_x_bar(peer_r))).multiply(t)
        if shared.is_infinity:
            raise CryptoError("SM2 key agreement produced the point at infinity")
        xu, yu = shared.coordinates()

        own_z = self._private_key.public_key.z_value(self._uid)
        peer_z = peer_public_key.z_value(peer_uid)
        if self._initiator:
            z_a, z_b, r_a, r_b = own_z, peer_z, own_r, peer_r
        else:
            z_a, z_b, r_a, r_b = peer_z, own_z, peer_r, own_r
        key = sm3_kdf(xu + yu + z_a + z_b, length)  # A8 / B6
        # B8 / A9 / A10 / B10:
        # S = Hash(tag || y_U || Hash(x_U || Z_A || Z_B || x1 || y1 || x2 || y2)).
        inner = sm3_hash(xu + z_a + z_b + r_a.encode()[1:] + r_b.encode()[1:])
        s_b = sm3_hash(b"\x02" + yu + inner)
        s_a = sm3_hash(b"\x03" + yu + inner)
        if self._initiator:
            return SM2AgreedKey(key, confirmation=s_a, expected_peer_confirmation=s_b)
        return SM2AgreedKey(key, confirmation=s_b, expected_peer_confirmation=s_a)
