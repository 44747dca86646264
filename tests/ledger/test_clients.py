"""The votes and fund clients of a process: a ledger that does not answer is a clear 503."""

from __future__ import annotations

from tests.factories import make_tenant


def test_a_platform_ledger_whose_embedded_node_never_started_is_a_503_not_a_crash(
    client, database, token_for
):
    """``WUYE_LEDGER_URL=embedded`` and no node running (``wuye serve`` alone): a route
    that needs the ledger answers a problem naming it, and the next call tries again."""
    headers = token_for(make_tenant(database))
    estate = client.post("/api/v1/estates", json={"code": "L", "name": "账"}, headers=headers)
    url = f"/api/v1/fund/estates/{estate.json()['id']}/reconciliation"
    for _ in range(2):
        r = client.get(url, headers=headers)
        assert r.status_code == 503, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "平台账本不可达" in r.json()["detail"] and "wuye run" in r.json()["detail"]
    assert getattr(client.app.state, "fund_ledger", None) is None  # not kept half-made
