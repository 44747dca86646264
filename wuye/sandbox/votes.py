"""The sandbox plays the synthetic owners and trustees of the votes it seeds.

On the platform, an owner's voting credential lives on the owner's device and each
trustee's key share on the trustee's: nobody holds them all. A sandbox's vote is
seeded with simulated owners and trustees (:mod:`wuye.sandbox.chain`); their secrets
are kept here, sealed under the platform secret, so that a developer can take the
vote through its whole life on the sandbox ledger:

* read the synthetic owners' credential letters and sign ballots in their own client
  (the credential file format of :mod:`wuye.ledger.votes.credentials`), then cast them
  through the ordinary ``POST /api/v1/elections/{id}/ballots``;
* or have the sandbox cast as an owner's device would (encrypt, prove, sign);
* close the vote, and have the simulated trustees submit their decryption shares, after
  which the result is on the sandbox ledger and ``/results`` answers.

None of this exists outside sandbox tenants; the routes refuse anyone else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from wuye.crypto import SM2PrivateKey
from wuye.federation.sealing import open_sealed, seal
from wuye.ledger.fund.flows import decrypt_as_trustees as decrypt
from wuye.ledger.votes import service as votes
from wuye.ledger.votes.ballot import OPTIONS, encrypt_ballot
from wuye.ledger.votes.credentials import SimulatedOwner
from wuye.ledger.votes.models import CastIn, Election, ElectionStatus
from wuye.ledger.votes.service import VotesLedger
from wuye.ledger.votes.trustees import TrusteeKey
from wuye.platform.problems import Conflict, NotFound, Problem
from wuye.platform.security import Principal
from wuye.sandbox.models import SimulatedCredentialOut, VoteKit

__all__ = [
    "Kit",
    "cast_as_owner",
    "credentials",
    "decrypt_as_trustees",
    "keep",
    "sandbox_election",
]

_AAD = b"wuye/sandbox/vote-kit/"


@dataclass
class Kit:
    """The simulated owners (credentials and who casts for each unit) and trustees."""

    owners: SimulatedOwner
    casters: dict[str, str]
    trustees: list[TrusteeKey]
    threshold: int


def keep(*, session: Session, secret: bytes, election_id: str, kit: Kit) -> None:
    """Seal and store the vote's simulated secrets (the seed calls this)."""
    body = {
        "credentials": {u: k.to_hex() for u, k in kit.owners.keys.items()},
        "casters": kit.casters,
        "trustees": [
            {"index": t.index, "threshold": t.threshold, "trustees": t.trustees, "share": t.share}
            for t in kit.trustees
        ],
        "threshold": kit.threshold,
    }
    row = VoteKit(election_id=election_id, secrets_sealed=b"")
    row.secrets_sealed = seal(secret, json.dumps(body).encode(), _AAD + election_id.encode())
    session.add(row)
    session.flush()


def _kit(session: Session, secret: bytes, election: Election) -> Kit:
    row = session.scalars(select(VoteKit).where(VoteKit.election_id == election.id)).first()
    if row is None:
        raise Problem(
            "not-found",
            "这次表决不是沙箱预置的，其业主与监票人由您自己扮演 / this vote was not seeded by "
            "the sandbox: its owners and trustees are yours to play",
        )
    body = json.loads(open_sealed(secret, row.secrets_sealed, _AAD + election.id.encode()))
    owners = SimulatedOwner()
    owners.keys = {u: SM2PrivateKey.from_hex(k) for u, k in body["credentials"].items()}
    trustees = [TrusteeKey(**t) for t in body["trustees"]]
    return Kit(owners, dict(body["casters"]), trustees, int(body["threshold"]))


def sandbox_election(session: Session, principal: Principal, election_id: str) -> Election:
    """The caller's election, if the caller is a sandbox: 404, then 403 for anyone else."""
    election = votes.get_election(session=session, election_id=election_id)  # 404 first
    if not principal.sandbox:
        raise Problem("forbidden", "仅限沙箱 / only in a developer sandbox")
    return election


def _voted(session: Session, election_id: str) -> set[str]:
    from wuye.ledger.votes.models import Ballot

    return set(session.scalars(select(Ballot.unit_id).where(Ballot.election_id == election_id)))


def credentials(
    *, session: Session, secret: bytes, principal: Principal, election_id: str
) -> list[SimulatedCredentialOut]:
    """The synthetic owners' credential letters: unit, who casts, the key pair, voted yet."""
    election = sandbox_election(session, principal, election_id)
    kit = _kit(session, secret, election)
    voted = _voted(session, election.id)
    return [
        SimulatedCredentialOut(
            unit_id=unit_id,
            owner_id=kit.casters[unit_id],
            public_key=key.public_key.to_hex().lower(),
            private_key=key.to_hex(),
            voted=unit_id in voted,
        )
        for unit_id, key in sorted(kit.owners.keys.items())
    ]


def cast_as_owner(
    *,
    session: Session,
    secret: bytes,
    principal: Principal,
    ledger: VotesLedger,
    election_id: str,
    unit_id: str,
    choice: str,
) -> Any:
    """Encrypt, prove and sign ``choice`` as the unit's synthetic owner's device would, and
    cast it through the votes service (the same checks as any ballot)."""
    election = sandbox_election(session, principal, election_id)
    kit = _kit(session, secret, election)
    if unit_id not in kit.casters:
        raise NotFound("unit", unit_id)
    index = [name for name, _, _ in OPTIONS].index(choice)
    manifest = votes.manifest_of(election)
    ref = bytes.fromhex(json.loads(election.unit_refs)[unit_id])
    ballot, _ = encrypt_ballot(manifest.public_key, index, len(OPTIONS), manifest.context(ref))
    signature = kit.owners.ballot_signature(manifest, unit_id, ref, ballot)
    owner = kit.casters[unit_id]
    return votes.cast_ballot(
        session=session,
        election_id=election.id,
        cast_in=CastIn(
            unit_id=unit_id, owner_id=owner, ballot=ballot.to_json(), signature=signature
        ),
        principal=Principal(
            tenant_id=principal.tenant_id,
            subject=f"owner:{owner}",
            client_id=principal.client_id,
            scopes=frozenset({"votes:cast"}),
            role="owner",
            sandbox=True,
        ),
        ledger=ledger,
    )


def decrypt_as_trustees(
    *, session: Session, secret: bytes, principal: Principal, ledger: VotesLedger, election_id: str
) -> Election:
    """The simulated trustees' decryption shares for the closed vote's tally (as many as
    the threshold): the result is then decrypted, proven and recorded on the ledger."""
    election = sandbox_election(session, principal, election_id)
    if election.status is not ElectionStatus.CLOSED:
        raise Conflict(f"the vote is {election.status.value}; close it first / 请先结束投票")
    kit = _kit(session, secret, election)
    return decrypt(
        session=session, votes_ledger=ledger, election=election, keys=kit.trustees[: kit.threshold]
    )
