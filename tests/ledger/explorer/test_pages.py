"""The explorer over plain HTTP against a real embedded node: decoded events, search,
blocks with seals, transactions with proofs, per-estate views and CSV exports."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))


def test_events_decode_into_what_they_mean_with_database_names(http, history):
    page = http.get("/explorer/events").text
    for meaning in (
        "单元 桂花苑",  # unit named from the database
        "在表决 #1 中投票",  # a vote cast
        "表决 #1 结果：通过",  # a ballot result
        "维修资金首次交存 ¥900.00",  # a fund deposit
        "维修项目 #1 第 1 期付款 ¥300.00",  # a disbursement with its project
        "应急维修项目 #2",  # an emergency repair
        "共有部分停车收入 ¥120.00",  # common-part income
        "信用评分 800",  # a credit score published
        "监管部门",  # a regulator's adjustment
        "信用分 -20",
        "的权限改为",  # governance
    ):
        assert meaning in page, meaning
    assert "绿城物业服务" in page


def test_search_by_estate_keeps_its_votes_and_drops_other_estates(http, history):
    rows = _csv(http.get("/explorer/events", params={"estate": "桂花苑", "format": "csv"}))
    events = [r[4] for r in rows[1:]]
    assert "Ballots.VoteCommitted" in events  # linked to the estate through its ballot
    assert "MaintenanceFund.ShareAssigned" in events  # linked through its project
    other = http.get("/explorer/events", params={"estate": history.other_estate, "format": "csv"})
    other_rows = _csv(other)[1:]
    assert sorted(r[4] for r in other_rows) == [
        "MaintenanceFund.BatchDeposited",
        "MaintenanceFund.UnitCredited",
    ]
    assert all(history.tx["other_deposit"] == r[9] for r in other_rows)


def test_search_by_unit_firm_and_category(http, history):
    unit = history.platform.units[1]
    unit_rows = _csv(http.get("/explorer/events", params={"unit": unit, "format": "csv"}))[1:]
    assert unit_rows and all("102" in r[5] for r in unit_rows)
    firm_rows = _csv(http.get("/explorer/events", params={"firm": "绿城", "format": "csv"}))[1:]
    assert sorted(r[4] for r in firm_rows) == [
        "CreditRegistry.ScoreAdjusted",
        "CreditRegistry.ScorePublished",
        "CreditRegistry.ScorePublished",
    ]
    income = _csv(http.get("/explorer/events", params={"category": "income", "format": "csv"}))
    assert [r[4] for r in income[1:]] == ["MaintenanceFund.CommonPartRecorded"]


def test_search_by_booking_time_range(http, history):
    rows = _csv(
        http.get(
            "/explorer/events",
            params={
                "estate": history.platform.estate,
                "since": "2025-04-01",
                "until": "2025-04-30",
                "category": "fund",
                "format": "csv",
            },
        )
    )[1:]
    assert {r[4] for r in rows} == {"MaintenanceFund.PaymentMade"}


def test_search_box_leads_to_a_transaction_or_a_block(http, history):
    tx = history.tx["cast"]
    found = http.get("/explorer/search", params={"q": tx}, follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"] == f"/explorer/tx/{tx}"
    block = http.get("/explorer/search", params={"q": "3"}, follow_redirects=False)
    assert block.headers["location"] == "/explorer/blocks/3"
    named = http.get("/explorer/search", params={"q": "桂花苑"})
    assert "Ballots.BallotRegistered" in named.text


def test_transaction_page_shows_its_events_and_a_proof_that_holds(http, history):
    page = http.get(f"/explorer/tx/{history.tx['payment']}").text
    assert "维修项目 #1 第 1 期付款" in page and "UnitDebited" in page
    assert "✔ 证明成立" in page and "transactionProof" in page


def test_block_page_shows_the_seals_and_the_validators_of_its_height(http, history, chain_w3):
    w3 = chain_w3
    number = w3.eth.get_transaction(history.tx["result"]).blockNumber
    url = f"/explorer/blocks/{number}"
    page = http.get(url).text
    validator = w3.provider.make_request("wuye_validators", [hex(number)])["result"][0]
    assert validator["account"] in page
    assert "1 个签名" in page and history.tx["result"] in page
    seals = _csv(http.get(url, params={"format": "csv", "listing": "seals"}))
    assert [row[0] for row in seals[1:]] == [validator["account"]]
    txs = _csv(http.get(url, params={"format": "csv"}))
    assert [row[1] for row in txs[1:]] == [history.tx["result"]]


def test_blocks_listing_exports_every_block_as_csv(http, history, chain_w3):
    w3 = chain_w3
    head = w3.eth.block_number
    rows = _csv(http.get("/explorer/blocks", params={"format": "csv"}))
    assert rows[0][0].startswith("高度") and len(rows) == head + 2  # header + blocks 0..head
    assert int(rows[1][0]) == head


def test_estate_page_shows_balance_flows_votes_and_the_firms_scores(http, history):
    page = http.get(f"/explorer/estates/{history.platform.estate}").text
    assert "桂花苑" in page
    assert "¥710.00" in page  # 900 + 100 + 50 - 300 - 40
    assert page.count('class="chart"') == 4 and "chart-empty" not in page
    assert "通过 approved" in page
    votes = _csv(
        http.get(
            f"/explorer/estates/{history.platform.estate}",
            params={"format": "csv", "listing": "votes"},
        )
    )
    assert votes[1][0] == "1" and votes[1][4] == "2" and votes[1][5] == "通过 approved"
    assert votes[1][8] == "#1 电梯更换（3号楼电梯，安达电梯工程）"  # the repair it authorised
    assert "（项目：电梯更换（3号楼电梯，安达电梯工程））" in page  # on its payment too


def test_estate_without_database_name_still_shows_its_fund(http, history):
    page = http.get(f"/explorer/estates/{history.other_estate}").text
    assert "¥777.00" in page


def test_firm_scores_include_the_regulators_adjustment(http, history):
    rows = _csv(http.get("/explorer/firms", params={"format": "csv"}))
    firm = next(r for r in rows[1:] if r[2] == history.platform.firm)
    assert firm[0] == "绿城物业服务" and firm[3] == "820" and firm[4] == "2025-02"


def test_a_node_the_operator_did_not_list_is_refused(http, chain_node):
    elsewhere = chain_node.url.replace("127.0.0.1", "localhost")
    refused = http.get("/explorer", params={"rpc": elsewhere})
    assert refused.status_code == 400 and "WUYE_EXPLORER_NODES" in refused.text
    probe = http.get("/explorer", params={"rpc": "http://169.254.169.254/latest/meta-data"})
    assert probe.status_code == 400


def test_another_node_url_is_read_and_a_bad_one_is_reported(http, chain_node, monkeypatch):
    node = chain_node
    monkeypatch.setattr(http.app.state.settings, "explorer_nodes", "*")
    elsewhere = node.url.replace("127.0.0.1", "localhost")
    page = http.get("/explorer", params={"rpc": elsewhere})
    assert page.status_code == 200
    assert "rpc=" + quote(elsewhere, safe="") in page.text  # links keep reading that node
    down = http.get("/explorer", params={"rpc": "http://127.0.0.1:9/"})
    assert down.status_code == 502 and "cannot reach" in down.text
    assert http.get("/explorer", params={"rpc": "file:///etc/passwd"}).status_code == 400


def test_blocks_listing_filters_by_time(http, history, chain_w3):
    later = _csv(http.get("/explorer/blocks", params={"since": "2999-01-01", "format": "csv"}))
    assert later == [later[0]]  # the header only
    page = http.get("/explorer/blocks", params={"since": "2000-01-01", "until": "2999-01-01"})
    head = chain_w3.eth.block_number
    assert page.status_code == 200 and f'href="/explorer/blocks/{head}"' in page.text
    assert http.get("/explorer/blocks", params={"since": "soon"}).status_code == 400
