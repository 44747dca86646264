"""Pending transactions: admitted after checks, handed to the proposer in nonce order.

A transaction is admitted only if it decodes, its signature recovers a sender
(eth-keys on coincurve), the sender is on the on-chain allowlist, its nonce
is the sender's next one (counting pending transactions), and the sender can
pay for its gas and value. Admission errors carry the message a web3.py user
expects (`nonce too low`, `insufficient funds ...`, `sender not allowed`).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from eth.abc import SignedTransactionAPI
from eth_utils import to_checksum_address


class TxRejected(ValueError):
    """The transaction was refused; the message is shown to the submitter."""

    def __init__(self, message: str, code: int = -32000) -> None:
        super().__init__(message)
        self.code = code


#: JSON-RPC error code for a sender that is not on the allowlist.
NOT_ALLOWED_CODE = -32010


@dataclass
class PendingTx:
    tx: SignedTransactionAPI
    sender: bytes
    received: float


@dataclass(frozen=True)
class AccountView:
    """What admission needs to know of an account at the head state."""

    nonce: int
    balance: int
    allowed: bool


class TxPool:
    """Pending transactions in arrival order, at most one per (sender, nonce)."""

    def __init__(self, max_size: int = 50_000) -> None:
        self.max_size = max_size
        self._txs: OrderedDict[bytes, PendingTx] = OrderedDict()
        self._next_nonce: dict[bytes, int] = {}
        self._lock = threading.Lock()
        self.changed = threading.Event()

    def __len__(self) -> int:
        return len(self._txs)

    def __contains__(self, tx_hash: bytes) -> bool:
        return tx_hash in self._txs

    def oldest_age(self) -> float:
        with self._lock:
            if not self._txs:
                return 0.0
            first = next(iter(self._txs.values()))
            return time.monotonic() - first.received

    def get(self, tx_hash: bytes) -> SignedTransactionAPI | None:
        pending = self._txs.get(tx_hash)
        return pending.tx if pending else None

    def add(
        self, tx: SignedTransactionAPI, account: Callable[[bytes], AccountView], chain_id: int
    ) -> bool:
        """Admit `tx`; False if it was already pending. Raises TxRejected."""
        try:
            sender = tx.sender
        except Exception as exc:  # noqa: BLE001 - any recovery failure is a bad signature
            raise TxRejected(f"invalid transaction signature: {exc}") from exc
        tx_chain_id = getattr(tx, "chain_id", None)
        if tx_chain_id is not None and tx_chain_id != chain_id:
            raise TxRejected(f"invalid chain id: got {tx_chain_id}, expected {chain_id}")
        if tx_chain_id is None:
            raise TxRejected("only replay-protected (EIP-155) transactions are accepted")
        with self._lock:
            if tx.hash in self._txs:
                return False
            view = account(sender)
            if not view.allowed:
                raise TxRejected(
                    f"sender {to_checksum_address(sender)} is not allowed to transact "
                    "on this ledger (not on the Permissions allowlist)",
                    NOT_ALLOWED_CODE,
                )
            expected = max(view.nonce, self._next_nonce.get(sender, 0))
            if tx.nonce < expected:
                raise TxRejected(f"nonce too low: next nonce {expected}, tx nonce {tx.nonce}")
            if tx.nonce > expected:
                raise TxRejected(
                    f"nonce too high: next nonce {expected}, tx nonce {tx.nonce} "
                    "(this ledger does not queue nonce gaps)"
                )
            max_fee = getattr(tx, "max_fee_per_gas", None) or getattr(tx, "gas_price", 0)
            cost = tx.gas * max_fee + tx.value
            if cost > view.balance:
                raise TxRejected(
                    f"insufficient funds for gas * price + value: balance {view.balance}, "
                    f"tx cost {cost}"
                )
            if len(self._txs) >= self.max_size:
                raise TxRejected("transaction pool is full; try again shortly", -32005)
            self._txs[tx.hash] = PendingTx(tx, sender, time.monotonic())
            self._next_nonce[sender] = tx.nonce + 1
        self.changed.set()
        return True

    def next_nonce(self, sender: bytes) -> int:
        with self._lock:
            return self._next_nonce.get(sender, 0)

    def batch(self, limit: int) -> list[SignedTransactionAPI]:
        """Up to `limit` pending transactions, in arrival (hence per-sender nonce) order."""
        with self._lock:
            out = []
            for pending in self._txs.values():
                out.append(pending.tx)
                if len(out) >= limit:
                    break
            return out

    def remove_included(self, tx_hashes: list[bytes], nonce_of: Callable[[bytes], int]) -> None:
        """Drop transactions now in a block, and any that the new state made stale."""
        with self._lock:
            for tx_hash in tx_hashes:
                self._txs.pop(tx_hash, None)
            stale = [h for h, p in self._txs.items() if p.tx.nonce < nonce_of(p.sender)]
            for tx_hash in stale:
                self._txs.pop(tx_hash)
            pending_next: dict[bytes, int] = {}
            for p in self._txs.values():
                pending_next[p.sender] = max(pending_next.get(p.sender, 0), p.tx.nonce + 1)
            self._next_nonce = pending_next

    def drop(self, tx_hashes: list[bytes]) -> None:
        """Forget transactions that failed to execute; later nonces of their senders too."""
        with self._lock:
            senders = {self._txs[h].sender for h in tx_hashes if h in self._txs}
            for h in [h for h, p in self._txs.items() if p.sender in senders]:
                self._txs.pop(h)
            for sender in senders:
                self._next_nonce.pop(sender, None)
