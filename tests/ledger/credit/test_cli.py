"""``wuye credit verify``: exit 0 when every digest and score recomputes, non-zero
naming the subject when stored inputs were tampered with."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import update

from tests.ledger.credit.conftest import AFTER, PERIOD, make_firm
from wuye.ledger.credit import service
from wuye.ledger.credit.models import CreditScore
from wuye.platform.cli import cli
from wuye.platform.db import Scope
from wuye.platform.settings import get_settings


def test_verify_passes_then_names_the_tampered_subject(
    sqlite_database, credit_ledger, node, monkeypatch, request
) -> None:
    firm = make_firm(sqlite_database)
    with sqlite_database.transaction(Scope.for_host()) as session:
        service.publish_period(session=session, ledger=credit_ledger, period=PERIOD, now=AFTER)
    monkeypatch.setenv("WUYE_DATABASE_URL", sqlite_database.url)
    get_settings.cache_clear()  # settings are read once per process; read them anew
    request.addfinalizer(get_settings.cache_clear)
    args = ["credit", "verify", "--period", PERIOD, "--rpc", node.url]
    args += ["--registry", credit_ledger.registry_address]
    ok = CliRunner().invoke(cli, args)
    assert ok.exit_code == 0, ok.output
    assert "VERIFIED" in ok.output
    with sqlite_database.transaction(Scope.for_host()) as session:
        session.execute(
            update(CreditScore)
            .where(CreditScore.subject_id == firm.staff_id)
            .values(inputs=CreditScore.inputs + " ")
        )
    failed = CliRunner().invoke(cli, args)
    assert failed.exit_code == 1
    assert "周师傅" in failed.output and "inputs digest" in failed.output


def test_verify_recomputes_from_a_platforms_public_api(
    sqlite_database, settings, credit_ledger, node
) -> None:
    from tests.serving import serving
    from wuye.platform.app import create_app

    make_firm(sqlite_database)
    with sqlite_database.transaction(Scope.for_host()) as session:
        service.publish_period(session=session, ledger=credit_ledger, period=PERIOD, now=AFTER)
    with serving(create_app(settings, sqlite_database)) as url:
        args = ["credit", "verify", "--period", PERIOD, "--api", url, "--rpc", node.url]
        result = CliRunner().invoke(cli, [*args, "--registry", credit_ledger.registry_address])
    assert result.exit_code == 0, result.output
    assert "2 项评分 scores" in result.output and "VERIFIED" in result.output


def test_verify_refuses_a_malformed_period() -> None:
    result = CliRunner().invoke(cli, ["credit", "verify", "--period", "2026-13"])
    assert result.exit_code == 2 and "YYYY-MM" in result.output
