"""Use cases that cross the fund and votes domains: an owners' vote on a repair project
run from start to end in one place (the demo, tests, a local trial).

In production the trustees run their key ceremony and decryption on their own
devices and owners cast from their phones through the votes API; here the same
service functions run with locally simulated trustees and owners, so the vote on
the ledger is a real one: encrypted ballots with proofs, a homomorphic tally,
threshold decryption, and the result recorded in ``Ballots``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from sqlalchemy.orm import Session

from wuye.ledger.fund import service
from wuye.ledger.fund.chain import FundLedger
from wuye.ledger.fund.models import FundProject, VoteIn
from wuye.ledger.votes import service as votes
from wuye.ledger.votes.ballot import encrypt_ballot
from wuye.ledger.votes.credentials import SimulatedOwner
from wuye.ledger.votes.models import CastIn, ConfirmIn, CredentialIn, NominateIn, SharesIn
from wuye.ledger.votes.service import VotesLedger
from wuye.ledger.votes.tally import ceremony_context, share_tally
from wuye.ledger.votes.trustees import ceremony
from wuye.platform.security import Principal

AGREE, OPPOSE, ABSTAIN = 0, 1, 2


def _as_owner(tenant_id: str, owner_id: str) -> Principal:
    """The owner themself, as signed in on their phone (scopes of the owner role)."""
    from wuye.federation.models import Role
    from wuye.federation.scopes import ROLE_SCOPES

    return Principal(
        tenant_id=tenant_id,
        subject=f"owner:{owner_id}",
        client_id=None,
        scopes=ROLE_SCOPES[Role.OWNER],
        role="owner",
    )


@dataclass
class SimulatedVote:
    """A project's vote with locally simulated trustees and owners: what is needed to
    cast for the owners it registered and, after closing, to decrypt as the trustees."""

    election: Any
    keys: list[Any]
    threshold: int
    owners: SimulatedOwner
    casters: dict[str, str]
    tenant_id: str


def open_project_vote(
    *,
    session: Session,
    votes_ledger: VotesLedger,
    project_id: str,
    voters: Iterable[str],
    tenant_id: str,
) -> SimulatedVote:
    """Request the project's vote, run the trustees' key ceremony, let the co-owners of each
    unit in ``voters`` choose who casts and register that unit's credential, and open it."""
    vote_in = VoteIn(threshold=2, trustees=3, credential_endorsements=2)
    election = service.request_vote(session=session, project_id=project_id, vote_in=vote_in)
    dealings, keys = ceremony(vote_in.threshold, vote_in.trustees, ceremony_context(election.id))
    votes.set_trustees(
        session=session, election_id=election.id, dealings=[d.to_json() for d in dealings]
    )
    # Before the vote opens: co-owners choose who casts (一户一票) and each caster's
    # device registers the public half of the unit's voting credential.
    owners_of = SimulatedOwner()
    casters: dict[str, str] = {}
    for unit_id in voters:
        owners = votes.co_owners(session=session, unit_id=unit_id)
        caster = owners[0]
        if len(owners) > 1:
            votes.nominate(
                session=session,
                election_id=election.id,
                unit_id=unit_id,
                nominate_in=NominateIn(nominee_id=caster.id),
                principal=_as_owner(tenant_id, caster.id),
            )
            for other in owners[1:]:
                votes.confirm_nomination(
                    session=session,
                    election_id=election.id,
                    unit_id=unit_id,
                    confirm_in=ConfirmIn(),
                    principal=_as_owner(tenant_id, other.id),
                )
        votes.register_owner_credential(
            session=session,
            election_id=election.id,
            unit_id=unit_id,
            credential_in=CredentialIn(public_key=owners_of.public_keys([unit_id])[unit_id]),
            principal=_as_owner(tenant_id, caster.id),
        )
        casters[unit_id] = caster.id
    # The trustees check the list on their devices and endorse it, so the platform could
    # not have slipped a credential in.
    endorse_as_trustees(session=session, election=election, keys=keys)
    votes.open_election(session=session, election_id=election.id, ledger=votes_ledger)
    return SimulatedVote(election, keys, vote_in.threshold, owners_of, casters, tenant_id)


def endorse_as_trustees(*, session: Session, election: Any, keys: list[Any]) -> None:
    """Each trustee whose endorsement the election requires endorses its current
    credential list, as ``wuye votes trustee endorse`` does on the trustee's device."""
    from wuye.ledger.votes.ceremony import endorse
    from wuye.ledger.votes.models import EndorsementIn
    from wuye.ledger.votes.tally import endorsement_context
    from wuye.ledger.votes.trustees import Dealing, verification_key
    from wuye.ledger.votes.zkp import SchnorrProof

    dealings = [Dealing.from_json(d) for d in json.loads(election.dealings)]
    digest = votes.credentials_digest(votes.current_credentials(session, election))
    for key in keys[: election.credential_endorsements]:
        proof = SchnorrProof.prove(
            key.share,
            verification_key(dealings, key.index),
            endorsement_context(election.id, digest),
        )
        endorse(session, election, EndorsementIn(index=key.index, proof=proof.to_json()))


def cast_simulated(
    *,
    session: Session,
    votes_ledger: VotesLedger,
    vote: SimulatedVote,
    choices: Mapping[str, int],
    progress: Callable[[str], None] | None = None,
) -> None:
    """Cast, as each unit's chosen owner, the encrypted and signed ballot for ``choices``
    (unit id → 0 agree / 1 oppose / 2 abstain)."""
    say = progress or (lambda _line: None)
    election = vote.election
    manifest = votes.manifest_of(election)
    refs = {u: bytes.fromhex(r) for u, r in json.loads(election.unit_refs).items()}
    say(f"表决 / vote: {len(choices)} 张加密选票 encrypted ballots")
    for unit_id, choice in choices.items():
        ballot, _ = encrypt_ballot(manifest.public_key, choice, 3, manifest.context(refs[unit_id]))
        signature = vote.owners.sign(
            unit_id,
            election=election.id,
            fingerprint=manifest.fingerprint,
            unit_ref=refs[unit_id],
            ballot=ballot.encode(),
        )
        votes.cast_ballot(
            session=session,
            election_id=election.id,
            cast_in=CastIn(
                unit_id=unit_id,
                owner_id=vote.casters[unit_id],
                ballot=ballot.to_json(),
                signature=signature,
            ),
            principal=_as_owner(vote.tenant_id, vote.casters[unit_id]),
            ledger=votes_ledger,
        )


def decrypt_as_trustees(
    *, session: Session, votes_ledger: VotesLedger, election: Any, keys: list[Any]
) -> Any:
    """Each of ``keys`` (trustees' key shares, at least the threshold) submits its
    decryption shares of the closed vote's tally, as ``wuye votes trustee decrypt`` does
    on the trustee's device; the last one makes the result, recorded on the ledger."""
    tally = votes.tally_of(election)
    holder = SimpleNamespace(fingerprint=votes.manifest_of(election).fingerprint)
    for trustee in keys:
        shares = share_tally(holder, trustee, tally)  # type: ignore[arg-type]
        election = votes.submit_shares(
            session=session,
            election_id=election.id,
            shares_in=SharesIn(
                index=trustee.index,
                shares={f"{j}:{w}": s.to_json() for (j, w), s in shares.items()},
            ),
            ledger=votes_ledger,
        )
    return election


def decide_project_vote(
    *,
    session: Session,
    votes_ledger: VotesLedger,
    fund_ledger: FundLedger,
    project_id: str,
    vote: SimulatedVote,
    progress: Callable[[str], None] | None = None,
) -> FundProject:
    """Close the vote, decrypt the tally as the trustees, and record the outcome on the
    fund (approve, ratify, or reject)."""
    say = progress or (lambda _line: None)
    election = vote.election
    votes.close_election(session=session, election_id=election.id, ledger=votes_ledger)
    decrypt_as_trustees(
        session=session,
        votes_ledger=votes_ledger,
        election=election,
        keys=vote.keys[: vote.threshold],
    )
    say(f"表决结果 / result on the ledger: {election.ledger_ref} approved={election.approved}")
    return service.authorise_by_vote(session=session, ledger=fund_ledger, project_id=project_id)


def run_project_vote(
    *,
    session: Session,
    votes_ledger: VotesLedger,
    fund_ledger: FundLedger,
    project_id: str,
    choices: Mapping[str, int],
    tenant_id: str,
    progress: Callable[[str], None] | None = None,
) -> FundProject:
    """Request the project's vote, run it to a decided result with ``choices`` (unit id →
    0 agree / 1 oppose / 2 abstain; units not named do not vote), and record the outcome
    on the fund (approve, ratify, or reject)."""
    vote = open_project_vote(
        session=session,
        votes_ledger=votes_ledger,
        project_id=project_id,
        voters=list(choices),
        tenant_id=tenant_id,
    )
    cast_simulated(
        session=session, votes_ledger=votes_ledger, vote=vote, choices=choices, progress=progress
    )
    return decide_project_vote(
        session=session,
        votes_ledger=votes_ledger,
        fund_ledger=fund_ledger,
        project_id=project_id,
        vote=vote,
        progress=progress,
    )
