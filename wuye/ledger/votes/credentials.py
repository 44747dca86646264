"""Per-unit voting credentials (投票凭证), as in Belenios: signed ballots against stuffing.

Each unit on the roll may hold a credential: an SM2 key pair (GB/T 32918.2) whose
private half only the owner keeps. Its public half is put on the ledger, in the
election's list of eligible credentials, before the vote opens; the list's SM3 digest
is part of the manifest, whose fingerprint ``Ballots.register`` records, and
``ElectionRecord`` refuses to publish anything but the result once the vote is open,
so the list cannot change afterwards.

A credential is made where the platform cannot keep its private half:

* on the owner's own page (``static/ballot.js`` generates the key in the browser and
  offers it as a credential file; only the public key is sent), or
* for owners without a device, by a credential authority that is not the platform (for
  example the neighbourhood committee, 居委会) with ``wuye votes credentials issue``:
  it prints letters (a CSV) with the private credentials and submits only the public list.

Every ballot carries the owner's SM2 signature, with the user ID naming the election
(:func:`credential_uid`), over :func:`signed_message`: the SM3 of the election's
fingerprint, the unit's reference and the ballot's tracker (SM3 of the encrypted ballot).
The service refuses a ballot whose signature does not verify under the unit's published
credential, and ``wuye votes verify`` checks every counted ballot's signature against the
list on the ledger, so a ballot the platform added for a unit that did not vote is exposed.

What the list itself proves: each owner can check that the public key listed for their
unit is their own (the cast page does), and the credential authority that it lists the
keys it issued (``wuye votes credentials check``). A unit with no credential cannot vote.

Who vouches for the list: without more, the platform alone (anyone with ``votes:manage``
can register a credential for a unit whose owner made none, and then sign ballots with
it). An election created with ``credential_endorsements = k`` closes that gap as Belenios
does: before the vote opens, at least k of its trustees - parties other than the platform,
holding key shares on their own devices - endorse the list (``wuye votes trustee endorse``,
which can check it against the authority's letters): each proves holding its key share,
bound to the election and the list's SM3 digest (``tally.endorsement_context``). Any
credential registered or changed afterwards changes the digest and voids the
endorsements, so the vote cannot open with it; the proofs go into the manifest, and
``wuye votes verify`` checks them against the published list. An election without the
requirement verifies as before, with a line saying that no trustee vouched for its list.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wuye.crypto import CryptoError, SM2PrivateKey, SM2PublicKey, sm3_hash
from wuye.crypto.errors import MalformedInputError

if TYPE_CHECKING:
    from wuye.ledger.votes.ballot import EncryptedBallot
    from wuye.ledger.votes.tally import Manifest

__all__ = [
    "CREDENTIAL_FILE_KIND",
    "Credential",
    "SimulatedOwner",
    "credential_file",
    "credential_uid",
    "decode_credentials",
    "encode_credentials",
    "issue_letters",
    "sign_ballot",
    "signed_message",
    "verify_ballot_signature",
]

CREDENTIAL_FILE_KIND = "wuye-vote-credential"
_MESSAGE_TAG = b"wuye-ballot-signature-v1"
#: Bytes of one entry of the published list: unit reference ‖ uncompressed SM2 key.
ENTRY_SIZE = 32 + 65


def credential_uid(election: str) -> bytes:
    """The SM2 user ID (``ID_A`` of GB/T 32918.2, 5.5) of a credential in ``election``.

    A signature made for one election never verifies in another, even with the same key.
    """
    return b"wuye-vote:" + election.encode()


def signed_message(fingerprint: bytes, unit_ref: bytes, tracker: bytes) -> bytes:
    """What a ballot's signature covers: SM3(tag ‖ election fingerprint ‖ unit ‖ tracker)."""
    return sm3_hash(_MESSAGE_TAG + fingerprint + unit_ref + tracker)


def sign_ballot(
    key: SM2PrivateKey, *, election: str, fingerprint: bytes, unit_ref: bytes, ballot: bytes
) -> bytes:
    """Sign the encrypted ballot ``ballot`` (its canonical bytes) for ``unit_ref``."""
    message = signed_message(fingerprint, unit_ref, sm3_hash(ballot))
    return key.sign(message, uid=credential_uid(election))


def verify_ballot_signature(
    public_key: bytes,
    signature: bytes,
    *,
    election: str,
    fingerprint: bytes,
    unit_ref: bytes,
    tracker: bytes,
) -> None:
    """Raise :class:`CryptoError` unless ``signature`` is the credential's over the ballot."""
    if not signature:
        raise CryptoError("the ballot is not signed with the unit's credential")
    key = SM2PublicKey.from_bytes(public_key)
    key.verify(signature, signed_message(fingerprint, unit_ref, tracker), credential_uid(election))


@dataclass(frozen=True, slots=True)
class Credential:
    """One entry of the published list: a unit's reference and its credential's public key."""

    unit_ref: bytes
    public_key: bytes  # 65 bytes, 04 ‖ x ‖ y

    def encode(self) -> bytes:
        return self.unit_ref + self.public_key


def encode_credentials(credentials: Iterable[Credential]) -> bytes:
    return b"".join(c.encode() for c in credentials)


def decode_credentials(data: bytes) -> list[Credential]:
    if len(data) % ENTRY_SIZE:
        raise MalformedInputError("credential list has a partial entry")
    return [
        Credential(data[i : i + 32], data[i + 32 : i + ENTRY_SIZE])
        for i in range(0, len(data), ENTRY_SIZE)
    ]


def check_public_key(text: str) -> bytes:
    """An uncompressed SM2 public key in hex, checked on the curve; raises CryptoError."""
    return SM2PublicKey.from_hex(text).to_bytes()


def credential_file(
    key: SM2PrivateKey, *, election: str, unit_id: str, unit_ref: str, label: str = ""
) -> dict[str, Any]:
    """The owner's credential file (JSON): the private key, for the owner to keep."""
    return {
        "kind": CREDENTIAL_FILE_KIND,
        "version": 1,
        "election": election,
        "unit_id": unit_id,
        "unit_ref": unit_ref,
        "label": label,
        "public_key": key.public_key.to_hex().lower(),
        "private_key": key.to_hex(),
    }


def issue_letters(
    units: Mapping[str, Mapping[str, str]], *, election: str
) -> tuple[str, dict[str, str]]:
    """The credential authority's work for owners without a device.

    ``units`` maps unit id -> {"unit_ref", "label"}. Returns the letters as CSV (one row per
    unit with its private credential, to print and hand to the owner) and the public list
    (unit id -> public key hex) that alone is submitted to the platform.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["election", "unit_id", "label", "unit_ref", "public_key", "private_key"])
    public = {}
    for unit_id, info in sorted(units.items()):
        key = SM2PrivateKey.generate()
        public[unit_id] = key.public_key.to_hex().lower()
        writer.writerow(
            [
                election,
                unit_id,
                info.get("label", ""),
                info["unit_ref"],
                public[unit_id],
                key.to_hex(),
            ]
        )
    return out.getvalue(), public


class SimulatedOwner:
    """Simulated owners for demos, tests and benchmarks: a credential per unit, kept here.

    Real owners make their credential on their own device; a demo that runs a whole
    election in one process plays their part with this (see
    :func:`wuye.ledger.votes.service.simulated_owners`)::

        owners = votes.simulated_owners(session=s, election_id=e.id, unit_ids=units)  # before open
        votes.open_election(...)
        manifest = votes.manifest_of(e)
        ballot, _ = encrypt_ballot(manifest.public_key, choice, 3, manifest.context(ref))
        CastIn(unit_id=u, owner_id=o, ballot=ballot.to_json(),
               signature=owners.ballot_signature(manifest, u, ref, ballot))
    """

    def __init__(self) -> None:
        self.keys: dict[str, SM2PrivateKey] = {}

    def key(self, unit_id: str) -> SM2PrivateKey:
        if unit_id not in self.keys:
            self.keys[unit_id] = SM2PrivateKey.generate()
        return self.keys[unit_id]

    def public_keys(self, unit_ids: Iterable[str]) -> dict[str, str]:
        return {u: self.key(u).public_key.to_hex().lower() for u in unit_ids}

    def ballot_signature(
        self, manifest: Manifest, unit_id: str, unit_ref: bytes, ballot: EncryptedBallot
    ) -> str:
        """:meth:`sign` for an encrypted ballot of the election ``manifest``."""
        return self.sign(
            unit_id,
            election=manifest.election,
            fingerprint=manifest.fingerprint,
            unit_ref=unit_ref,
            ballot=ballot.encode(),
        )

    def sign(
        self, unit_id: str, *, election: str, fingerprint: bytes, unit_ref: bytes, ballot: bytes
    ) -> str:
        """The hex signature of ``ballot`` (canonical bytes) by ``unit_id``'s credential."""
        return sign_ballot(
            self.key(unit_id),
            election=election,
            fingerprint=fingerprint,
            unit_ref=unit_ref,
            ballot=ballot,
        ).hex()


def load_credential_file(text: str) -> dict[str, Any]:
    data = json.loads(text)
    if data.get("kind") != CREDENTIAL_FILE_KIND:
        raise MalformedInputError("not a wuye vote credential file")
    return data
