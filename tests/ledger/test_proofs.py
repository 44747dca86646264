"""wuye_getProof: transaction and receipt inclusion under the sealed digest, checked offline."""

from __future__ import annotations

import pytest
from web3 import Web3

from tests.ledger.conftest import send
from wuye.ledger.proofs import ProofError, verify_proof


def _proof(w3: Web3, admin) -> tuple[dict, list[str]]:
    first = send(w3, admin, {"to": admin.address, "value": 1, "gas": 21000})
    proof = w3.provider.make_request("wuye_getProof", [first.transactionHash.to_0x_hex()])
    validators = w3.provider.make_request("wuye_validators", [hex(first.blockNumber)])["result"]
    return proof["result"], [v["sm2PublicKey"] for v in validators]


def test_proof_verifies_against_sealed_digest(w3: Web3, admin) -> None:
    proof, validators = _proof(w3, admin)
    verify_proof(proof, validators)


@pytest.mark.parametrize("field", ["transaction", "receipt", "headerRlp"])
def test_tampered_proof_is_refused(w3: Web3, admin, field: str) -> None:
    proof, validators = _proof(w3, admin)
    value = proof[field]
    proof[field] = value[:-2] + ("00" if value[-2:] != "00" else "01")
    with pytest.raises(ProofError):
        verify_proof(proof, validators)


def test_proof_needs_seals_of_the_validators(w3: Web3, admin) -> None:
    from wuye import crypto

    proof, _ = _proof(w3, admin)
    stranger = crypto.SM2PrivateKey.generate().public_key.to_hex()
    with pytest.raises(ProofError, match="not a validator"):
        verify_proof(proof, [stranger])
