"""The trustees' key ceremony across separate devices, relayed by the platform.

Each trustee runs :mod:`wuye.ledger.votes.trustee_device` on a machine of its own
(``wuye votes trustee ...``). The platform only relays and checks public data:

1. every trustee registers an SM2 *transport key* (its private half never leaves
   the trustee's key file);
2. every trustee posts its Feldman dealing (:func:`wuye.ledger.votes.trustees.deal`)
   and the share ``fᵢ(j)`` for each other trustee j, SM2-encrypted to j's transport
   key (GB/T 32918.4) - the platform cannot read a share;
3. every trustee decrypts the shares sent to it, checks each against its dealer's
   commitments (Feldman), and posts a Schnorr proof that it knows ``xⱼ`` for the
   public ``Xⱼ = verification_key(dealings, j)``.

When all n have confirmed, the dealings become the election's and it is READY.
A trustee that receives a bad share does not confirm, and names the dealer.

If the election requires it (``credential_endorsements``), trustees then vouch for the
voting credential list before the vote opens (:func:`endorse`): each proves again that it
holds ``xⱼ``, this time bound to the list's SM3 digest (:func:`endorsement_context`), so
the platform cannot add a credential of its own without the trustees' noticing.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from wuye.crypto import sm3_hash
from wuye.crypto.errors import CryptoError
from wuye.ledger.votes.models import (
    ConfirmKeyIn,
    DealingIn,
    Election,
    ElectionStatus,
    EndorsementIn,
    TransportKeyIn,
)
from wuye.ledger.votes.tally import Endorsement, ceremony_context
from wuye.ledger.votes.tally import endorsement_context as endorsement_context  # re-exported
from wuye.ledger.votes.trustees import Dealing, verification_key
from wuye.ledger.votes.zkp import ProofError, SchnorrProof
from wuye.platform.problems import Conflict, Problem


def confirm_context(election_id: str, index: int) -> bytes:
    """What a trustee's proof of holding its key share is bound to."""
    return ceremony_context(election_id) + b":holds-share:" + index.to_bytes(2, "big")


def share_message(election_id: str, dealer: int, recipient: int, share: int) -> bytes:
    """The plaintext a dealer encrypts to a recipient: the share, bound to its place."""
    return json.dumps(
        {"election": election_id, "from": dealer, "to": recipient, "share": format(share, "x")},
        separators=(",", ":"),
        sort_keys=True,
    ).encode()


def fingerprint(transport_key: str) -> str:
    """A short fingerprint of a transport key, for trustees to compare out of band."""
    return sm3_hash(bytes.fromhex(transport_key)).hex()[:16]


def state(election: Election) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(election.ceremony or "{}")
    data.setdefault("transport_keys", {})
    data.setdefault("dealings", {})
    data.setdefault("encrypted_shares", {})
    data.setdefault("confirmed", [])
    return data


def public_view(election: Election) -> dict[str, Any]:
    """What every trustee reads: all of it is public (the shares are ciphertexts)."""
    data = state(election)
    return {
        "election_id": election.id,
        "status": election.status.value,
        "threshold": election.threshold,
        "trustees": election.trustee_count,
        "transport_keys": data["transport_keys"],
        "fingerprints": {i: fingerprint(k) for i, k in data["transport_keys"].items()},
        "dealings": data["dealings"],
        "encrypted_shares": data["encrypted_shares"],
        "confirmed": sorted(data["confirmed"]),
    }


def _index(election: Election, index: int) -> str:
    if not 1 <= index <= election.trustee_count:
        raise Problem(
            "validation-error", f"index: trustees are numbered 1..{election.trustee_count}"
        )
    return str(index)


def _draft(election: Election) -> None:
    if election.status is not ElectionStatus.DRAFT:
        raise Conflict(f"election is {election.status.value}; the key ceremony is over")


def register_transport_key(election: Election, index: int, key_in: TransportKeyIn) -> dict:
    """Step 1: trustee ``index``'s transport key; set once (a second, different key is a
    conflict, so nobody can swap a trustee's key after others encrypted to it)."""
    _draft(election)
    i = _index(election, index)
    data = state(election)
    key = key_in.transport_key.lower()
    try:
        from wuye.crypto import SM2PublicKey

        SM2PublicKey.from_hex(key)
    except (CryptoError, ValueError) as exc:
        raise Problem("validation-error", f"transport_key: {exc}") from exc
    if data["transport_keys"].get(i, key) != key:
        raise Conflict(f"trustee {index} already registered another transport key")
    data["transport_keys"][i] = key
    election.ceremony = json.dumps(data)
    return public_view(election)


def submit_dealing(election: Election, index: int, dealing_in: DealingIn) -> dict:
    """Step 2: trustee ``index``'s dealing (checked) and its encrypted shares (one per
    other trustee; the platform cannot check what they hold - their recipients do)."""
    _draft(election)
    i = _index(election, index)
    data = state(election)
    if len(data["transport_keys"]) != election.trustee_count:
        raise Conflict("every trustee must register a transport key before anyone deals")
    if i in data["dealings"]:
        raise Conflict(f"trustee {index} has already dealt")
    try:
        dealing = Dealing.from_json(dealing_in.dealing)
        if dealing.index != index:
            raise ProofError("the dealing is for another trustee index")
        if len(dealing.commitments) != election.threshold:
            raise ProofError(f"a dealing needs {election.threshold} commitments")
        dealing.verify(ceremony_context(election.id))
    except (ProofError, CryptoError, KeyError, TypeError, ValueError) as exc:
        raise Problem("validation-error", f"dealing: {exc}") from exc
    others = {str(j) for j in range(1, election.trustee_count + 1) if j != index}
    if set(dealing_in.encrypted_shares) != others:
        raise Problem("validation-error", "encrypted_shares: one for each other trustee")
    data["dealings"][i] = dealing.to_json()
    for j, ciphertext in dealing_in.encrypted_shares.items():
        data["encrypted_shares"][f"{i}->{j}"] = ciphertext.lower()
    election.ceremony = json.dumps(data)
    return public_view(election)


def confirm(session: Session, election: Election, index: int, confirm_in: ConfirmKeyIn) -> dict:
    """Step 3: trustee ``index`` proves it holds ``xⱼ`` for ``Xⱼ``; the last confirmation
    makes the dealings the election's (READY)."""
    from wuye.ledger.votes import service

    _draft(election)
    i = _index(election, index)
    data = state(election)
    if len(data["dealings"]) != election.trustee_count:
        raise Conflict("every trustee must deal before anyone confirms")
    dealings = [Dealing.from_json(d) for _, d in sorted(data["dealings"].items())]
    try:
        proof = SchnorrProof.from_json(confirm_in.proof)
        proof.verify(verification_key(dealings, index), confirm_context(election.id, index))
    except (ProofError, CryptoError, KeyError, TypeError, ValueError) as exc:
        raise Problem("validation-error", f"proof: {exc}") from exc
    if i not in data["confirmed"]:
        data["confirmed"].append(i)
    election.ceremony = json.dumps(data)
    if len(data["confirmed"]) == election.trustee_count:
        service.set_trustees(
            session=session, election_id=election.id, dealings=[d.to_json() for d in dealings]
        )
    return public_view(election)


def endorse(session: Session, election: Election, endorsement_in: EndorsementIn) -> Election:
    """Trustee ``index`` endorses the election's current credential list (relayed from its
    device): checked against ``Xⱼ`` and the list's digest as the manifest will compute it.

    Only after the ceremony (READY) and before the vote opens. A credential registered or
    changed afterwards changes the digest, so this endorsement stops counting and the
    trustee must endorse the new list."""
    from wuye.ledger.votes import service

    if election.status is ElectionStatus.DRAFT:
        raise Conflict(
            "密钥仪式尚未完成 / the key ceremony is not over: trustees endorse once the "
            "election is ready"
        )
    if election.status is not ElectionStatus.READY:
        raise Conflict(
            f"表决已开始 / the election is {election.status.value}: its credential list is "
            "fixed, endorsements are taken only before the vote opens"
        )
    if not election.credential_endorsements:
        raise Conflict(
            "本表决不要求背书 / this election requires no endorsements of its credential list"
        )
    i = _index(election, endorsement_in.index)
    listed = service.current_credentials(session, election)
    if not listed:
        raise Conflict("no unit holds a voting credential yet: nothing to endorse")
    digest = service.credentials_digest(listed)
    stored: dict[str, dict[str, Any]] = json.loads(election.endorsements or "{}")
    if stored.get(i, {}).get("digest") == digest.hex():
        raise Problem(
            "validation-error",
            f"index: 监督人 {endorsement_in.index} 已为当前凭证名单背书 / trustee "
            f"{endorsement_in.index} has already endorsed this credential list",
        )
    dealings = [Dealing.from_json(d) for d in json.loads(election.dealings)]
    endorsement = Endorsement(endorsement_in.index, endorsement_in.proof)
    try:
        endorsement.verify(dealings, election.id, digest)
        canonical = SchnorrProof.from_json(endorsement_in.proof).to_json()
    except (ProofError, CryptoError, KeyError, TypeError, ValueError) as exc:
        raise Problem(
            "validation-error",
            f"proof: 不是监督人 {endorsement_in.index} 对当前凭证名单（摘要 {digest.hex()[:16]}…）"
            f"的背书 / not trustee {endorsement_in.index}'s endorsement of the current "
            f"credential list ({exc})",
        ) from exc
    stored[i] = {"digest": digest.hex(), "proof": canonical}
    election.endorsements = json.dumps(stored, sort_keys=True)
    session.flush()
    return election
