"""CreditRegistry through web3.py: batches of scores, immutability, regulators' adjustments."""

from __future__ import annotations

import pytest
from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

from tests.ledger.conftest import PERMISSIONS, call, deploy, new_member
from wuye.ledger.credit.chain import ROLE_RATER, ROLE_REGULATOR, ROLE_SENDER

REFS = [bytes([i]) * 32 for i in range(1, 4)]
DIGEST = b"\x07" * 32


@pytest.fixture(scope="module")
def registry(w3: Web3, admin):
    return deploy(w3, admin, "CreditRegistry", PERMISSIONS)


def test_one_transaction_publishes_a_batch_of_scores(w3: Web3, admin, registry) -> None:
    receipt = call(
        w3,
        admin,
        registry.functions.publish_scores(202610, 1, REFS, [1, 2, 2], [910, 780, 0], [DIGEST] * 3),
    )
    events = registry.events.ScorePublished().process_receipt(receipt, errors=DISCARD)
    assert [(e.args.score, e.args.kind) for e in events] == [(910, 1), (780, 2), (0, 2)]
    (batch,) = registry.events.ScoresPublished().process_receipt(receipt, errors=DISCARD)
    assert batch.args.count == 3 and batch.args.period == 202610
    assert registry.functions.computed_score(202610, REFS[1]).call() == 780


def test_a_published_score_cannot_be_published_again(w3: Web3, admin, registry) -> None:
    call(w3, admin, registry.functions.publish_scores(202611, 1, REFS[:1], [1], [500], [DIGEST]))
    with pytest.raises(ContractLogicError, match="already published"):
        registry.functions.publish_scores(202611, 1, REFS[:1], [1], [600], [DIGEST]).call(
            {"from": admin.address}
        )


def test_only_raters_publish_and_scores_stay_in_range(w3: Web3, admin, registry) -> None:
    outsider = new_member(w3, admin, ROLE_SENDER)
    fn = registry.functions.publish_scores(202612, 1, REFS[:1], [1], [500], [DIGEST])
    with pytest.raises(ContractLogicError, match="not a rater"):
        fn.call({"from": outsider.address})
    rater = new_member(w3, admin, ROLE_SENDER | ROLE_RATER, fund=False)
    too_high = registry.functions.publish_scores(202612, 1, REFS[:1], [1], [1001], [DIGEST])
    with pytest.raises(ContractLogicError, match="score out of range"):
        too_high.call({"from": rater.address})


def test_adjustments_come_from_regulators_and_add_to_the_computed_score(
    w3: Web3, admin, registry
) -> None:
    call(w3, admin, registry.functions.publish_scores(202601, 1, REFS[:1], [1], [700], [DIGEST]))
    rater = new_member(w3, admin, ROLE_SENDER | ROLE_RATER)
    with pytest.raises(ContractLogicError, match="not a regulator"):
        registry.functions.adjust(202601, REFS[0], -50, DIGEST).call({"from": rater.address})
    regulator = new_member(w3, admin, ROLE_SENDER | ROLE_REGULATOR)
    receipt = call(w3, regulator, registry.functions.adjust(202601, REFS[0], -50, DIGEST))
    (event,) = registry.events.ScoreAdjusted().process_receipt(receipt, errors=DISCARD)
    assert event.args.regulator == regulator.address and event.args.delta == -50
    assert registry.functions.computed_score(202601, REFS[0]).call() == 700
    assert registry.functions.effective_score(202601, REFS[0]).call() == 650


def test_an_unpublished_score_cannot_be_adjusted(w3: Web3, admin, registry) -> None:
    regulator = new_member(w3, admin, ROLE_SENDER | ROLE_REGULATOR, fund=False)
    with pytest.raises(ContractLogicError, match="score not published"):
        registry.functions.adjust(202001, REFS[0], 10, DIGEST).call({"from": regulator.address})
