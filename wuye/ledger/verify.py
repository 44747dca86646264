"""Independent verification of a ledger from its genesis file and JSON-RPC access only.

For every block: the header hashes to the block hash the node reports, links
to its parent, its SM3 digest carries valid SM2 seals from more than two
thirds of the validators of that height, and with `reexecute` the block run
through py-evm from genesis yields the same state root (and hence the same
receipts and logs). The validator set of each height is read from the
re-executed state; without re-execution it follows the Validators contract's
ValidatorAdded/ValidatorRemoved events as the node reports them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import rlp
from eth.db.atomic import AtomicDB
from eth_abi import decode as abi_decode
from eth_utils import ValidationError, keccak, to_checksum_address

from wuye import crypto
from wuye.ledger import seals as sealing
from wuye.ledger.execution import Ledger
from wuye.ledger.genesis import (
    LEDGER_VM,
    VALIDATORS_ADDRESS,
    Genesis,
    ReferenceLedgerVM,
    build_genesis,
)

HEADER_CLASS = dict(LEDGER_VM.get_block_class()._meta.fields)["header"]
ADDED_TOPIC = "0x" + keccak(b"ValidatorAdded(address,bytes32,bytes32,uint256)").hex()
REMOVED_TOPIC = "0x" + keccak(b"ValidatorRemoved(address,uint256)").hex()


class VerificationFailed(Exception):
    """The chain does not verify; `number` is the first bad block."""

    def __init__(self, number: int, reason: str) -> None:
        super().__init__(f"block #{number}: {reason}")
        self.number = number
        self.reason = reason


@dataclass
class Report:
    blocks: int = 0
    transactions: int = 0
    seals: int = 0
    reexecuted: bool = False
    head_hash: str = ""
    validator_changes: list[str] = field(default_factory=list)


class RPC:
    def __init__(self, url: str) -> None:
        self.url = url
        self.client = httpx.Client(timeout=30.0)
        self._id = 0

    def call(self, method: str, *params: Any) -> Any:
        self._id += 1
        payload = {"jsonrpc": "2.0", "id": self._id, "method": method, "params": list(params)}
        try:
            answer = self.client.post(self.url, json=payload).json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ConnectionError(f"cannot reach {self.url}: {exc}") from exc
        if "error" in answer:
            raise ConnectionError(f"{method} failed: {answer['error'].get('message')}")
        return answer["result"]


def _b(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


def verify_chain(
    url: str,
    genesis_path: Path,
    reexecute: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Verify the chain served at `url`; raise VerificationFailed at the first bad block."""
    genesis = Genesis.load(genesis_path)
    rpc = RPC(url)
    if int(rpc.call("eth_chainId"), 16) != genesis.chain_id:
        raise VerificationFailed(0, "chain id differs from the genesis file")
    header0 = build_genesis(AtomicDB(), genesis)
    remote0 = rpc.call("eth_getBlockByNumber", "0x0", False)
    if remote0 is None or _b(remote0["hash"]) != header0.hash:
        raise VerificationFailed(0, "genesis block differs from the one the genesis file gives")
    head = int(rpc.call("eth_blockNumber"), 16)
    validators = [v.sm2_public_key.lower() for v in genesis.validators]
    members = {v.account.lower(): v.sm2_public_key.lower() for v in genesis.validators}
    report = Report(reexecuted=reexecute)
    replay: Ledger | None = None
    tmp: tempfile.TemporaryDirectory | None = None
    if reexecute:
        tmp = tempfile.TemporaryDirectory(prefix="wuye-verify-")
        # py-evm's own interpreter, so the check does not rest on the nodes' faster one
        replay = Ledger(Path(tmp.name), genesis, vm_class=ReferenceLedgerVM)
    parent_hash = header0.hash
    try:
        for number in range(1, head + 1):
            info = rpc.call("wuye_getSeals", hex(number))
            if info is None:
                raise VerificationFailed(number, "node has no such block")
            header_rlp = _b(info["headerRlp"])
            header = rlp.decode(header_rlp, sedes=HEADER_CLASS)
            if header.hash != _b(info["hash"]):
                raise VerificationFailed(number, "header does not hash to the reported hash")
            if header.block_number != number:
                raise VerificationFailed(number, "header carries another number")
            if header.parent_hash != parent_hash:
                raise VerificationFailed(number, "header does not link to its parent")
            digest = crypto.sm3_hash(header_rlp)
            seals = [sealing.Seal.from_json(s) for s in info["seals"]]
            if replay is not None:
                validators = [v.public_key for v in replay.validators_after(replay.head())]
            problems = sealing.check_quorum(seals, digest, validators)
            if problems:
                raise VerificationFailed(number, problems[0])
            block_json = rpc.call("eth_getBlockByNumber", hex(number), False)
            if replay is not None:
                _reexecute(rpc, replay, number, header)
            elif block_json["transactions"]:
                validators = _follow_validator_events(rpc, number, members, report)
            report.blocks += 1
            report.seals += len(seals)
            report.transactions += len(block_json["transactions"])
            parent_hash = header.hash
            if progress is not None:
                progress(number, head)
        report.head_hash = "0x" + parent_hash.hex()
        return report
    finally:
        if replay is not None:
            replay.close()
        if tmp is not None:
            tmp.cleanup()


def _reexecute(rpc: RPC, replay: Ledger, number: int, header: Any) -> None:
    full = rpc.call("eth_getBlockByNumber", hex(number), True)
    builder = replay.block_class.get_transaction_builder()
    txs = []
    for tx in full["transactions"]:
        raw = rpc.call("eth_getRawTransactionByHash", tx["hash"])
        txs.append(builder.decode(_b(raw)))
    block = replay.block_class(header, transactions=txs, uncles=[], withdrawals=[])
    try:
        candidate = replay.execute(block)
    except ValidationError as exc:
        raise VerificationFailed(number, f"re-execution differs: {str(exc)[:200]}") from None
    if candidate.header.state_root != header.state_root:
        raise VerificationFailed(number, "re-executed state root differs")
    replay.commit(candidate, [])


def _follow_validator_events(
    rpc: RPC, number: int, members: dict[str, str], report: Report
) -> list[str]:
    logs = rpc.call(
        "eth_getLogs",
        {
            "fromBlock": hex(number),
            "toBlock": hex(number),
            "address": to_checksum_address(VALIDATORS_ADDRESS),
            "topics": [[ADDED_TOPIC, REMOVED_TOPIC]],
        },
    )
    for entry in logs:
        account = "0x" + entry["topics"][1][-40:]
        if entry["topics"][0] == ADDED_TOPIC:
            x, y, _ = abi_decode(["bytes32", "bytes32", "uint256"], _b(entry["data"]))
            members[account.lower()] = "04" + (x + y).hex()
            report.validator_changes.append(f"#{number} + {account}")
        else:
            members.pop(account.lower(), None)
            report.validator_changes.append(f"#{number} - {account}")
    return sorted(members.values())
