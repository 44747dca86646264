"""Pending transactions: admitted after checks, handed to the proposer in nonce order.

A transaction is admitted only if it decodes, its signature recovers a sender
(eth-keys on coincurve), the sender is on the on-chain allowlist, its nonce
is the sender's next one (counting pending transactions), and the sender can
pay for its gas and value on top of what its pending transactions may cost
(so an admitted transaction does not later fail for want of funds).
Admission errors carry the message a web3.py user expects (`nonce too low`,
`insufficient funds ...`, `sender not allowed`).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import rlp
from coincurve import PublicKey
from eth.abc import SignedTransactionAPI
from eth.vm.forks.cancun.state import get_total_blob_gas
from eth_utils import keccak, to_checksum_address

#: The order of secp256k1's group: r and s of a signature lie in [1, N - 1].
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def recover_sender(tx: SignedTransactionAPI, raw: bytes) -> bytes:
    """The sender of `tx` (whose encoding is `raw`), recovered once and cached on `tx`.

    For EIP-2930 and EIP-1559 transactions the signing hash is cut from the
    raw bytes and the key recovered with coincurve directly: a third of what
    py-evm's own path costs (it re-serialises every field). py-evm then finds
    the sender (and the hash) in its caches. Anything else takes py-evm's path.
    """
    if raw[:1] in (b"\x01", b"\x02"):
        fields = rlp.decode(raw[1:])
        y_parity, r, s = (int.from_bytes(f, "big") for f in fields[-3:])
        if y_parity in (0, 1) and 0 < r < SECP256K1_N and 0 < s < SECP256K1_N:
            digest = keccak(raw[:1] + rlp.encode(fields[:-3]))
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([y_parity])
            try:
                public = PublicKey.from_signature_and_message(signature, digest, hasher=None)
            except ValueError:
                return tx.sender  # py-evm raises its own error for the bad signature
            sender = keccak(public.format(compressed=False)[1:])[12:]
            # `sender` and `hash` are cached_properties; the raw bytes are the canonical encoding
            tx.__dict__["sender"] = sender
            tx.__dict__.setdefault("hash", keccak(raw))
            return sender
    return tx.sender


def _max_cost(tx: SignedTransactionAPI) -> int:
    """The most a transaction can take from its sender: gas limit times fee cap, plus value."""
    max_fee = getattr(tx, "max_fee_per_gas", None) or getattr(tx, "gas_price", 0)
    return int(tx.gas * max_fee + tx.value)


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
    raw: bytes = b""
    seq: int = 0  # admission order, kept across restarts by the pool journal


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
        self._reserved: dict[bytes, int] = {}  # sender -> most its pending transactions cost
        self._lock = threading.Lock()
        self._seq = time.time_ns()
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
        self,
        tx: SignedTransactionAPI,
        account: Callable[[bytes], AccountView],
        chain_id: int,
        raw: bytes | None = None,
        gas_limit: int | None = None,
    ) -> bool:
        """Admit `tx`; False if it was already pending. Raises TxRejected.

        `raw` is the transaction as received (kept so it is never re-encoded);
        `gas_limit` is the block gas limit, which no admitted transaction may exceed.
        """
        if gas_limit is not None and tx.gas > gas_limit:
            raise TxRejected(
                f"exceeds block gas limit: tx gas {tx.gas}, block gas limit {gas_limit}"
            )
        try:
            sender = tx.sender if raw is None else recover_sender(tx, raw)
        except Exception as exc:  # noqa: BLE001 - any recovery failure is a bad signature
            raise TxRejected(f"invalid transaction signature: {exc}") from exc
        tx_chain_id = getattr(tx, "chain_id", None)
        if tx_chain_id is not None and tx_chain_id != chain_id:
            raise TxRejected(f"invalid chain id: got {tx_chain_id}, expected {chain_id}")
        if tx_chain_id is None:
            raise TxRejected("only replay-protected (EIP-155) transactions are accepted")
        if get_total_blob_gas(tx):
            raise TxRejected("blob (EIP-4844) transactions are not accepted on this ledger")
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
            cost = _max_cost(tx)
            reserved = self._reserved.get(sender, 0)
            if reserved + cost > view.balance:
                raise TxRejected(
                    f"insufficient funds for gas * price + value: balance {view.balance}, "
                    f"tx cost {cost}"
                    + (f", pending transactions may cost {reserved}" if reserved else "")
                )
            if len(self._txs) >= self.max_size:
                raise TxRejected("transaction pool is full; try again shortly", -32005)
            raw = tx.encode() if raw is None else raw
            self._seq += 1
            self._txs[tx.hash] = PendingTx(tx, sender, time.monotonic(), raw, self._seq)
            self._next_nonce[sender] = tx.nonce + 1
            self._reserved[sender] = reserved + cost
        self.changed.set()
        return True

    def next_nonce(self, sender: bytes) -> int:
        with self._lock:
            return self._next_nonce.get(sender, 0)

    def pending(self, tx_hash: bytes) -> PendingTx | None:
        return self._txs.get(tx_hash)

    def batch(self, limit: int) -> list[SignedTransactionAPI]:
        """Up to `limit` pending transactions, in arrival (hence per-sender nonce) order."""
        return [p.tx for p in self.select(limit)]

    def select(self, limit: int) -> list[PendingTx]:
        """The next block's candidates: up to `limit`, in arrival order.

        Block building (`Ledger.build`) leaves out whatever does not fit in the
        block's gas, and those transactions simply stay here for a later block.
        """
        with self._lock:
            return list(itertools.islice(self._txs.values(), limit))

    def remove_included(
        self, tx_hashes: list[bytes], nonce_of: Callable[[bytes], int]
    ) -> list[bytes]:
        """Drop transactions now in a block, and any that the new state made stale.

        Returns the hashes of the stale ones (those not in `tx_hashes`).
        """
        with self._lock:
            for tx_hash in tx_hashes:
                self._txs.pop(tx_hash, None)
            stale = [h for h, p in self._txs.items() if p.tx.nonce < nonce_of(p.sender)]
            for tx_hash in stale:
                self._txs.pop(tx_hash)
            pending_next: dict[bytes, int] = {}
            reserved: dict[bytes, int] = {}
            for p in self._txs.values():
                pending_next[p.sender] = max(pending_next.get(p.sender, 0), p.tx.nonce + 1)
                reserved[p.sender] = reserved.get(p.sender, 0) + _max_cost(p.tx)
            self._next_nonce = pending_next
            self._reserved = reserved
            return stale

    def drop(self, tx_hashes: list[bytes]) -> list[bytes]:
        """Forget transactions that failed to execute; later nonces of their senders too.

        Returns the hashes of every transaction forgotten.
        """
        with self._lock:
            senders = {self._txs[h].sender for h in tx_hashes if h in self._txs}
            gone = [h for h, p in self._txs.items() if p.sender in senders]
            for h in gone:
                self._txs.pop(h)
            for sender in senders:
                self._next_nonce.pop(sender, None)
                self._reserved.pop(sender, None)
            return gone
