"""REST routes for owners' votes under ``/api/v1``: elections, ballots, trustees, results."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, status

from wuye.ledger.clients import votes_client
from wuye.ledger.votes import ceremony, service
from wuye.ledger.votes.models import (
    Ballot,
    BallotOut,
    CastIn,
    ConfirmIn,
    ConfirmKeyIn,
    CredentialIn,
    CredentialOut,
    CredentialsIn,
    DealingIn,
    Election,
    ElectionIn,
    ElectionOut,
    ElectionStatus,
    EndorsementIn,
    MyUnitOut,
    NominateIn,
    NominationOut,
    ProxyCastIn,
    SharesIn,
    TransportKeyIn,
    TrusteesIn,
)
from wuye.platform.deps import Context, UnitOfWorkRoute, scoped
from wuye.platform.listing import ListParams, Page, list_params, paginate
from wuye.platform.problems import Problem

router = APIRouter(prefix="/api/v1", tags=["votes 业主表决"], route_class=UnitOfWorkRoute)

ELECTION_SORT = frozenset({"title", "created_at", "status"})
BALLOT_SORT = frozenset({"created_at", "block_number"})


def ledger_for(request: Request, ctx: Context) -> service.VotesLedger:
    """The votes client of the caller's site: the sandbox ledger for a sandbox tenant."""
    return votes_client(request.app.state, sandbox=ctx.principal.sandbox)


def _out(election: Election) -> ElectionOut:
    """The election as the API shows it, read inside the route's transaction (the count of
    valid endorsements looks at the current credential list)."""
    return ElectionOut.model_validate(election)


@router.get("/elections", response_model=Page[ElectionOut], summary="表决列表 / List votes")
def list_elections(
    ctx: Context = scoped("votes:read"),
    params: ListParams = Depends(list_params),
    estate_id: str | None = Query(None),
    status_: ElectionStatus | None = Query(None, alias="status"),
) -> dict:
    stmt = service.elections_query(estate_id=estate_id, status=status_)
    if ctx.principal.role == "owner":
        stmt = service.owner_elections(stmt, owner_id=ctx.principal.subject.removeprefix("owner:"))
    return paginate(
        ctx.session,
        stmt,
        model=Election,
        params=params,
        sortable=ELECTION_SORT,
        present=lambda rows: [_out(election) for election in rows],
    )


@router.post(
    "/elections",
    response_model=ElectionOut,
    status_code=status.HTTP_201_CREATED,
    summary="发起表决 / Create a vote (fixes the unit roll)",
)
def create_election(election_in: ElectionIn, ctx: Context = scoped("votes:manage")) -> object:
    return _out(service.create_election(session=ctx.session, election_in=election_in))


@router.get("/elections/{election_id}", response_model=ElectionOut, summary="表决详情 / Get")
def get_election(election_id: str, ctx: Context = scoped("votes:read")) -> object:
    return _out(service.get_election(session=ctx.session, election_id=election_id))


@router.get("/elections/{election_id}/manifest", summary="表决公开参数 / Public manifest")
def get_manifest(election_id: str, ctx: Context = scoped("votes:read")) -> dict[str, Any]:
    election = service.get_election(session=ctx.session, election_id=election_id)
    manifest = service.manifest_of(election)
    body: dict[str, Any] = {
        "header": manifest.header(),
        "unit_refs": json.loads(election.unit_refs),
    }
    if manifest.dealings:
        body["public_key"] = manifest.public_key.encode().hex()
        body["fingerprint"] = manifest.fingerprint.hex()
    return body


@router.post(
    "/elections/{election_id}/trustees",
    response_model=ElectionOut,
    summary="登记计票监督人公钥承诺 / Trustees' key commitments",
)
def set_trustees(
    election_id: str, trustees_in: TrusteesIn, ctx: Context = scoped("votes:manage")
) -> object:
    return _out(
        service.set_trustees(
            session=ctx.session, election_id=election_id, dealings=trustees_in.dealings
        )
    )


@router.get(
    "/elections/{election_id}/credentials",
    response_model=list[CredentialOut],
    summary="投票凭证公钥名单 / Units and their voting credentials' public keys",
)
def list_credentials(election_id: str, ctx: Context = scoped("votes:manage")) -> object:
    return service.credentials(session=ctx.session, election_id=election_id)


@router.post(
    "/elections/{election_id}/credentials",
    status_code=status.HTTP_201_CREATED,
    summary="凭证机构提交公钥名单 / A credential authority's public list (letters' keys)",
)
def post_credentials(
    election_id: str, credentials_in: CredentialsIn, ctx: Context = scoped("votes:manage")
) -> dict[str, int]:
    count = service.register_authority_credentials(
        session=ctx.session, election_id=election_id, credentials_in=credentials_in
    )
    return {"registered": count}


@router.put(
    "/elections/{election_id}/units/{unit_id}/credential",
    response_model=CredentialOut,
    summary="业主登记本机生成的投票凭证公钥 / The owner's device registers its credential",
)
def put_credential(
    election_id: str,
    unit_id: str,
    credential_in: CredentialIn,
    ctx: Context = scoped("votes:cast"),
) -> object:
    return service.register_owner_credential(
        session=ctx.session,
        election_id=election_id,
        unit_id=unit_id,
        credential_in=credential_in,
        principal=ctx.principal,
    )


@router.post(
    "/elections/{election_id}/credential-endorsements",
    response_model=ElectionOut,
    summary="计票监督人为凭证名单背书 / A trustee endorses the credential list (from its device)",
)
def post_endorsement(
    election_id: str, endorsement_in: EndorsementIn, ctx: Context = scoped("votes:manage")
) -> object:
    """Relay a trustee's endorsement of the current credential list, made on its own
    device (``wuye votes trustee endorse``). Only after the key ceremony and before the
    vote opens; registering or changing a credential afterwards voids it."""
    election = service.get_election(session=ctx.session, election_id=election_id)
    return _out(ceremony.endorse(ctx.session, election, endorsement_in))


@router.post("/elections/{election_id}/open", response_model=ElectionOut, summary="开始投票 / Open")
def open_election(
    election_id: str, request: Request, ctx: Context = scoped("votes:manage")
) -> object:
    election = service.get_election(session=ctx.session, election_id=election_id)
    return _out(
        service.open_election(
            session=ctx.session, election_id=election.id, ledger=ledger_for(request, ctx)
        )
    )


@router.post(
    "/elections/{election_id}/ballots",
    status_code=status.HTTP_201_CREATED,
    summary="投出加密选票 / Cast an encrypted ballot; returns the receipt",
)
def cast_ballot(
    election_id: str, cast_in: CastIn, request: Request, ctx: Context = scoped("votes:cast")
) -> dict[str, Any]:
    service.get_election(session=ctx.session, election_id=election_id)
    row = service.cast_ballot(
        session=ctx.session,
        election_id=election_id,
        cast_in=cast_in,
        principal=ctx.principal,
        ledger=ledger_for(request, ctx),
    )
    return {"id": row.id, "tracker": row.tracker, "receipt": json.loads(row.receipt)}


@router.post(
    "/elections/{election_id}/proxy-ballots",
    status_code=status.HTTP_201_CREATED,
    summary="线下代投 / Enter a paper ballot with the owner's signed authorisation",
)
def cast_proxy_ballot(
    election_id: str,
    cast_in: ProxyCastIn,
    request: Request,
    ctx: Context = scoped("votes:manage"),
) -> dict[str, Any]:
    service.get_election(session=ctx.session, election_id=election_id)
    row = service.cast_ballot(
        session=ctx.session,
        election_id=election_id,
        cast_in=cast_in,
        principal=ctx.principal,
        ledger=ledger_for(request, ctx),
    )
    return {"id": row.id, "tracker": row.tracker, "receipt": json.loads(row.receipt)}


@router.get(
    "/elections/{election_id}/ballots",
    response_model=Page[BallotOut],
    summary="公示的加密选票 / The bulletin board of encrypted ballots",
)
def list_ballots(
    election_id: str,
    ctx: Context = scoped("votes:read"),
    params: ListParams = Depends(list_params),
) -> dict:
    election = service.get_election(session=ctx.session, election_id=election_id)
    from sqlalchemy import select

    stmt = select(Ballot).where(Ballot.election_id == election.id)
    return paginate(
        ctx.session, stmt, model=Ballot, params=params, sortable=BALLOT_SORT, schema=BallotOut
    )


@router.post(
    "/elections/{election_id}/close",
    response_model=ElectionOut,
    summary="结束投票并同态计票 / Close and tally homomorphically",
)
def close_election(
    election_id: str, request: Request, ctx: Context = scoped("votes:manage")
) -> object:
    election = service.get_election(session=ctx.session, election_id=election_id)
    return _out(
        service.close_election(
            session=ctx.session, election_id=election.id, ledger=ledger_for(request, ctx)
        )
    )


@router.get("/elections/{election_id}/tally", summary="加密计票结果 / Encrypted tally")
def get_tally(election_id: str, ctx: Context = scoped("votes:read")) -> dict[str, Any]:
    election = service.get_election(session=ctx.session, election_id=election_id)
    return json.loads(election.tally or "{}")


@router.post(
    "/elections/{election_id}/decryptions",
    response_model=ElectionOut,
    summary="计票监督人解密份额 / A trustee's decryption shares",
)
def submit_shares(
    election_id: str,
    shares_in: SharesIn,
    request: Request,
    ctx: Context = scoped("votes:manage"),
) -> object:
    election = service.get_election(session=ctx.session, election_id=election_id)
    return _out(
        service.submit_shares(
            session=ctx.session,
            election_id=election.id,
            shares_in=shares_in,
            ledger=ledger_for(request, ctx),
        )
    )


@router.get("/elections/{election_id}/results", summary="表决结果 / Results and turnout")
def get_results(election_id: str, ctx: Context = scoped("votes:read")) -> dict[str, Any]:
    return service.results(session=ctx.session, election_id=election_id)


@router.get(
    "/elections/{election_id}/my-units",
    response_model=list[MyUnitOut],
    summary="我在本表决中的房屋 / The signed-in owner's units on the roll, and who casts each",
)
def my_units(election_id: str, ctx: Context = scoped("votes:read")) -> object:
    election = service.get_election(session=ctx.session, election_id=election_id)
    owner_id = service.acting_owner(ctx.principal, None) if ctx.principal.role == "owner" else None
    if owner_id is None:
        raise Problem("forbidden", "only an owner's own token lists the owner's units")
    return service.my_units(session=ctx.session, election_id=election.id, owner_id=owner_id)


@router.get(
    "/elections/{election_id}/units/{unit_id}/nomination",
    response_model=NominationOut,
    summary="共有人推选投票人 / Who casts a co-owned unit's ballot",
)
def get_nomination(election_id: str, unit_id: str, ctx: Context = scoped("votes:read")) -> object:
    election = service.get_election(session=ctx.session, election_id=election_id)
    return service.nomination_state(session=ctx.session, election=election, unit_id=unit_id)


@router.post(
    "/elections/{election_id}/units/{unit_id}/nomination",
    response_model=NominationOut,
    summary="推选投票人 / A co-owner nominates who casts the unit's ballot",
)
def nominate(
    election_id: str,
    unit_id: str,
    nominate_in: NominateIn,
    ctx: Context = scoped("votes:cast"),
) -> object:
    return service.nominate(
        session=ctx.session,
        election_id=election_id,
        unit_id=unit_id,
        nominate_in=nominate_in,
        principal=ctx.principal,
    )


@router.post(
    "/elections/{election_id}/units/{unit_id}/nomination/confirm",
    response_model=NominationOut,
    summary="确认推选 / A co-owner confirms the nomination",
)
def confirm_nomination(
    election_id: str,
    unit_id: str,
    confirm_in: ConfirmIn,
    ctx: Context = scoped("votes:cast"),
) -> object:
    return service.confirm_nomination(
        session=ctx.session,
        election_id=election_id,
        unit_id=unit_id,
        confirm_in=confirm_in,
        principal=ctx.principal,
    )


# -- the trustees' key ceremony on separate devices (see ceremony.py) -------------------


@router.get(
    "/elections/{election_id}/ceremony",
    summary="计票监督人密钥仪式 / The trustees' key ceremony (public data)",
)
def get_ceremony(election_id: str, ctx: Context = scoped("votes:read")) -> dict[str, Any]:
    election = service.get_election(session=ctx.session, election_id=election_id)
    return ceremony.public_view(election)


@router.put(
    "/elections/{election_id}/ceremony/{index}/transport-key",
    summary="登记传输公钥 / A trustee registers its SM2 transport key",
)
def put_transport_key(
    election_id: str, index: int, key_in: TransportKeyIn, ctx: Context = scoped("votes:manage")
) -> dict[str, Any]:
    election = service.get_election(session=ctx.session, election_id=election_id)
    return ceremony.register_transport_key(election, index, key_in)


@router.post(
    "/elections/{election_id}/ceremony/{index}/dealing",
    summary="提交公开承诺与加密份额 / A trustee's dealing and its encrypted shares",
)
def post_dealing(
    election_id: str, index: int, dealing_in: DealingIn, ctx: Context = scoped("votes:manage")
) -> dict[str, Any]:
    election = service.get_election(session=ctx.session, election_id=election_id)
    return ceremony.submit_dealing(election, index, dealing_in)


@router.post(
    "/elections/{election_id}/ceremony/{index}/confirm",
    summary="确认持有密钥份额 / A trustee proves it holds its key share",
)
def post_confirm(
    election_id: str, index: int, confirm_in: ConfirmKeyIn, ctx: Context = scoped("votes:manage")
) -> dict[str, Any]:
    election = service.get_election(session=ctx.session, election_id=election_id)
    return ceremony.confirm(ctx.session, election, index, confirm_in)
