"""REST routes for bills under ``/api/v1/bills``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, status

from wuye.platform.bills import service
from wuye.platform.bills.models import (
    KINDS,
    PERIOD_PATTERN,
    STATUSES,
    Bill,
    BillCancelIn,
    BillIn,
    BillOut,
    BillPayment,
    BillPaymentIn,
    BillPaymentOut,
)
from wuye.platform.deps import Context, UnitOfWorkRoute, scoped
from wuye.platform.fastpath import short_read
from wuye.platform.listing import ListParams, Page, list_params, paginate

router = APIRouter(prefix="/api/v1", tags=["bills 账单"], route_class=UnitOfWorkRoute)

BILL_SORT = frozenset({"created_at", "due_date", "period", "amount_fen", "status", "kind"})
PAYMENT_SORT = frozenset({"seq", "paid_at", "amount_fen"})


@router.get("/bills", response_model=Page[BillOut], summary="账单列表 / List bills")
@short_read
def list_bills(
    ctx: Context = scoped("bills:read"),
    params: ListParams = Depends(list_params),
    estate_id: str | None = Query(None),
    unit_id: str | None = Query(None),
    owner_id: str | None = Query(None),
    kind: str | None = Query(None, pattern=f"^({'|'.join(KINDS)})$"),
    status: str | None = Query(None, pattern=f"^({'|'.join(STATUSES)})$"),
    period: str | None = Query(None, pattern=PERIOD_PATTERN),
    issuer: str | None = Query(None, max_length=64, description="开票方 / issuer"),
) -> dict:
    stmt = service.bills_query(
        estate_id=estate_id,
        unit_id=unit_id,
        owner_id=owner_id,
        kind=kind,
        status=status,
        period=period,
        issuer=issuer,
    )
    return paginate(
        ctx.session, stmt, model=Bill, params=params, sortable=BILL_SORT, schema=BillOut
    )


@router.post(
    "/bills",
    response_model=BillOut,
    status_code=status.HTTP_201_CREATED,
    summary="开具账单 / Issue a bill",
)
def create_bill(bill_in: BillIn, ctx: Context = scoped("bills:write")) -> Bill:
    return service.create_bill(session=ctx.session, bill_in=bill_in, actor=ctx.principal.subject)


@router.get("/bills/{bill_id}", response_model=BillOut, summary="账单详情 / Get a bill")
@short_read
def get_bill(bill_id: str, ctx: Context = scoped("bills:read")) -> Bill:
    return service.get_bill(session=ctx.session, bill_id=bill_id)


@router.post(
    "/bills/{bill_id}/payments",
    response_model=BillPaymentOut,
    status_code=status.HTTP_201_CREATED,
    summary="登记缴费 / Record a payment",
)
def record_payment(
    bill_id: str, payment_in: BillPaymentIn, ctx: Context = scoped("bills:write")
) -> BillPayment:
    return service.record_payment(
        session=ctx.session, bill_id=bill_id, payment_in=payment_in, actor=ctx.principal.subject
    )


@router.get(
    "/bills/{bill_id}/payments",
    response_model=Page[BillPaymentOut],
    summary="缴费记录 / A bill's payments",
)
def list_payments(
    bill_id: str,
    ctx: Context = scoped("bills:read"),
    params: ListParams = Depends(list_params),
) -> dict:
    service.get_bill(session=ctx.session, bill_id=bill_id)
    return paginate(
        ctx.session,
        service.payments_query(bill_id=bill_id),
        model=BillPayment,
        params=params,
        sortable=PAYMENT_SORT,
        schema=BillPaymentOut,
    )


@router.post("/bills/{bill_id}/cancel", response_model=BillOut, summary="作废账单 / Cancel a bill")
def cancel_bill(
    bill_id: str, cancel_in: BillCancelIn, ctx: Context = scoped("bills:write")
) -> Bill:
    return service.cancel_bill(session=ctx.session, bill_id=bill_id, cancel_in=cancel_in)
