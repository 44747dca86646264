"""Byzantine fault tolerant agreement on each block, in the manner of IBFT/QBFT.

For height h and round r the proposer is validator (h + r) mod n of the set
sorted by account. It proposes a batch of pending transactions with a
timestamp; every validator, the proposer included, executes the batch at
once (so execution runs in parallel rather than proposer-then-validators) and
sends PREPARE for the block hash it computed; on a quorum (more than two thirds) of prepares a
validator locks the block and sends COMMIT with its seal; a quorum of seals
makes the block final and every node writes it to disk with those seals.
If a round does not finish in time (doubling per round), validators send
ROUND_CHANGE carrying their locked block, and the next proposer re-proposes a
locked block if any validator holds one; f + 1 round changes for a higher
round pull a lagging validator along. One crashed or silent validator of four
therefore delays, but never stops, finality.

An honest validator seals at most one block per height. Two valid seals by
one validator for different blocks at a height, and two different proposals
by one proposer for one round, are kept as evidence; invalid seals are
ignored and recorded too.

Known limit: this is a compact IBFT-style protocol, not a formally verified
one. Safety rests on "seal once per height" and prepare quorums; liveness
under an adversarial network schedule with a byzantine proposer can stall
until validators restart.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eth_utils import ValidationError

from wuye.ledger import seals as sealing
from wuye.ledger.execution import Candidate, ValidatorInfo
from wuye.ledger.messages import (
    BadMessage,
    Commit,
    Message,
    Prepare,
    Proposal,
    RoundChange,
    decode,
)

if TYPE_CHECKING:
    from wuye.ledger.node import Node

log = logging.getLogger(__name__)
MAX_FUTURE_MESSAGES = 20_000
#: How far into the future a proposal's timestamp may be, in seconds.
MAX_CLOCK_DRIFT = 15


@dataclass
class HeightState:
    """Everything a validator knows about the height it is deciding."""

    height: int
    validators: list[ValidatorInfo]
    round: int = 0
    round_started: float = field(default_factory=time.monotonic)
    proposals: dict[int, Proposal] = field(default_factory=dict)
    candidates: dict[bytes, Candidate] = field(default_factory=dict)
    prepares: dict[tuple[int, bytes], set[str]] = field(default_factory=lambda: defaultdict(set))
    commits: dict[bytes, dict[str, Commit]] = field(default_factory=lambda: defaultdict(dict))
    seal_by_sender: dict[str, Commit] = field(default_factory=dict)
    round_changes: dict[int, dict[str, RoundChange]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    locked: Candidate | None = None
    sent_prepare: set[int] = field(default_factory=set)
    proposed: set[int] = field(default_factory=set)
    sealed: bool = False
    active: bool = False
    began: float | None = None  # when this height's first proposal was made or seen

    @property
    def keys(self) -> list[str]:
        return [v.public_key for v in self.validators]

    @property
    def quorum(self) -> int:
        return sealing.quorum(len(self.validators))

    def proposer(self, round_: int) -> str:
        return self.validators[(self.height + round_) % len(self.validators)].public_key


class Consensus:
    """The consensus loop of one node; all its state is touched by its own thread only."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.ledger = node.ledger
        self.config = node.config
        self.key = node.key
        self.me = node.public_key
        self.inbox: queue.Queue[Any] = queue.Queue()
        self.state = self._fresh_state()
        self.future: list[Message] = []
        self.last_began = 0.0  # when the previous height's block was first proposed
        self.last_sync = 0.0
        self.sync_wanted = False
        self._recorded: set[tuple[str, str, int]] = set()
        self.finalized = threading.Condition()
        self._thread: threading.Thread | None = None
        self._running = False

    # -- lifecycle --------------------------------------------------------------
    def start(self) -> None:
        self._running = True
        self._thread = threading.Thread(target=self._loop, name="wuye-consensus", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._running = False
        self.inbox.put(None)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _fresh_state(self) -> HeightState:
        head = self.ledger.head()
        return HeightState(head.block_number + 1, self.ledger.validators_after(head))

    def _loop(self) -> None:
        while self._running:
            try:
                item = self.inbox.get(timeout=0.02)
            except queue.Empty:
                item = None
            try:
                if isinstance(item, Message):
                    self._handle(item)
                elif isinstance(item, dict):
                    self.receive(item)
                self._tick()
            except Exception:  # noqa: BLE001 - the loop must survive any one bad event
                log.exception("consensus step failed")

    def receive(self, data: dict[str, Any]) -> None:
        """Verify a message from the network and handle it."""
        try:
            message = decode(data)
        except BadMessage as exc:
            log.debug("dropped message: %s", exc)
            return
        self._handle(message)

    def deliver(self, data: Any) -> None:
        """Called from other threads: queue raw messages for the consensus thread."""
        self.inbox.put(data)

    # -- sending ------------------------------------------------------------------
    def _send(self, message: Message) -> None:
        message.sign(self.key)
        self.node.broadcast(message.to_json())
        self.inbox.put(message)

    # -- the clock -------------------------------------------------------------------
    def _timeout(self, round_: int) -> float:
        return self.config.round_timeout * (2 ** min(round_, 5))

    def _tick(self) -> None:
        now = time.monotonic()
        st = self.state
        # Peers are polled when a message shows we are behind, or while idle (a restarted
        # node catching up); never on a timer mid-round, where it would only add latency.
        idle = not st.active and not self.node.pool
        if self.sync_wanted or (idle and now - self.last_sync > self.config.sync_interval):
            self._sync()
            st = self.state
        if self.key is None or self.me not in st.keys:
            return
        pending = len(self.node.pool)
        if pending or st.locked is not None or st.proposals:
            if not st.active:
                st.active = True
                st.round_started = now
        if st.proposer(st.round) == self.me and st.round not in st.proposed:
            self._maybe_propose(now, pending)
        if st.active and now - st.round_started > self._timeout(st.round):
            self._enter_round(st.round + 1)

    def _maybe_propose(self, now: float, pending: int) -> None:
        st = self.state
        if st.round == 0:
            if not pending:
                return
            # One block per interval: measured from when the previous block was proposed,
            # so execution and voting time do not stretch the cadence.
            waited = now - self.last_began
            if pending < self.config.max_block_txs and waited < self.config.block_interval:
                return
            body = self._batch()
        else:
            changes = st.round_changes.get(st.round, {})
            if len(changes) < st.quorum:
                return
            locked = st.locked or self._locked_from(changes.values())
            if locked is not None:
                body = {"block": self.ledger.encode_block(locked.block).hex()}
            else:
                body = self._batch() if pending else None
        if body is None:
            return
        st.proposed.add(st.round)
        if st.began is None:
            st.began = now
        self._send(Proposal(st.height, st.round, self.me, body))

    def _batch(self) -> dict[str, Any] | None:
        """A fresh proposal: the transactions and timestamp every validator executes.

        Sending the batch rather than the executed block lets the proposer and the
        validators execute at the same time; each prepares the block it computed,
        so only identical results reach a quorum.
        """
        pending = self.node.pool.select(self.config.max_block_txs)
        if not pending:
            return None
        parent = self.ledger.head()
        timestamp = max(int(time.time()), parent.timestamp)  # see LedgerVM.validate_header
        return {"txs": [p.raw.hex() for p in pending], "timestamp": timestamp}

    def _execute_batch(self, message: Proposal) -> Candidate | None:
        """Build the block a batch proposal describes; None if it holds no valid transaction."""
        parent = self.ledger.head()
        timestamp = int(message.body["timestamp"])
        if timestamp < parent.timestamp or timestamp > time.time() + MAX_CLOCK_DRIFT:
            raise ValidationError(f"proposal timestamp {timestamp} out of range")
        txs = [self.node.decode_tx(bytes.fromhex(raw)) for raw in message.body["txs"]]
        started, started_cpu = time.monotonic(), time.thread_time()
        candidate = self.ledger.build(txs, timestamp=timestamp)
        log.info(
            "height %d: executed batch of %d txs in %.2fs (%.2fs CPU)",
            self.state.height,
            len(candidate.block.transactions),
            time.monotonic() - started,
            time.thread_time() - started_cpu,
        )
        if candidate.dropped:
            self.node.drop_invalid(candidate.dropped)
        if not candidate.block.transactions:
            return None
        self.state.candidates[candidate.block.hash] = candidate
        return candidate

    def _locked_from(self, changes: Any) -> Candidate | None:
        for change in changes:
            raw = change.locked_block
            if raw is None:
                continue
            try:
                block = self.ledger.decode_block(raw)
                if block.number != self.state.height:
                    continue
                return self._candidate(block)
            except (ValidationError, ValueError) as exc:
                log.info("ignoring unusable locked block in round change: %s", exc)
        return None

    def _enter_round(self, round_: int) -> None:
        st = self.state
        if round_ <= st.round and st.round_changes.get(round_, {}).get(self.me):
            return
        st.round = max(round_, st.round)
        st.round_started = time.monotonic()
        locked = self.ledger.encode_block(st.locked.block).hex() if st.locked else None
        log.info("height %d: round change to %d", st.height, st.round)
        self._send(RoundChange(st.height, st.round, self.me, {"locked": locked}))
        proposal = st.proposals.get(st.round)
        if proposal is not None:
            self._on_proposal(proposal)

    # -- handling ------------------------------------------------------------------
    def _handle(self, message: Message) -> None:
        st = self.state
        if message.height < st.height:
            if isinstance(message, Commit):
                self._check_old_seal(message)
            return
        if message.height > st.height:
            if len(self.future) < MAX_FUTURE_MESSAGES:
                self.future.append(message)
            if message.height > st.height + 1 or isinstance(message, Commit):
                self.sync_wanted = True
            return
        if message.sender not in st.keys:
            log.debug("message from a non-validator %s", message.sender[:18])
            return
        handler = _HANDLERS[type(message)]
        handler(self, message)

    def _on_proposal(self, message: Proposal) -> None:
        st = self.state
        if message.sender != st.proposer(message.round):
            return
        earlier = st.proposals.get(message.round)
        if earlier is not None and earlier.signature != message.signature:
            if earlier.body != message.body:
                self._evidence(
                    "conflicting-proposals",
                    message.sender,
                    round=message.round,
                    messages=[earlier.to_json(), message.to_json()],
                )
            return
        st.proposals[message.round] = message
        st.active = True
        if st.began is None:
            st.began = time.monotonic()
        if message.round != st.round or message.round in st.sent_prepare:
            return
        try:
            if message.block_rlp is None:
                if st.locked is not None:
                    return  # a locked validator only prepares its locked block
                candidate = self._execute_batch(message)
                if candidate is None:
                    return
            else:
                block = self.ledger.decode_block(message.block_rlp)
                if block.number != st.height:
                    return
                if st.locked is not None and st.locked.block.hash != block.hash:
                    return
                candidate = self._candidate(block)
        except ValidationError as exc:
            self._evidence("invalid-proposal", message.sender, reason=str(exc)[:300])
            return
        except Exception as exc:  # noqa: BLE001 - any decoding failure makes it invalid
            self._evidence("invalid-proposal", message.sender, reason=f"undecodable: {exc}")
            return
        st.sent_prepare.add(message.round)
        st.round_started = time.monotonic()  # progress: the round's clock starts afresh
        self._send(Prepare(st.height, message.round, self.me, {"hash": candidate.block.hash.hex()}))

    def _candidate(self, block: Any) -> Candidate:
        st = self.state
        known = st.candidates.get(block.hash)
        if known is not None:
            return known
        started = time.monotonic()
        candidate = self.ledger.execute(block)
        log.info(
            "height %d: executed %d txs in %.2fs",
            st.height,
            len(block.transactions),
            time.monotonic() - started,
        )
        st.candidates[candidate.block.hash] = candidate
        return candidate

    def _on_prepare(self, message: Prepare) -> None:
        st = self.state
        voters = st.prepares[(message.round, message.block_hash)]
        voters.add(message.sender)
        if len(voters) >= st.quorum:
            self._seal(message.block_hash)

    def _seal(self, block_hash: bytes) -> None:
        st = self.state
        candidate = st.candidates.get(block_hash)
        if st.sealed or candidate is None or self.key is None:
            return
        if st.locked is not None and st.locked.block.hash != block_hash:
            return
        st.locked = candidate
        st.sealed = True
        digest = sealing.header_digest(candidate.header)
        seal = sealing.sign_seal(self.key, digest)
        body = {"hash": block_hash.hex(), "digest": digest.hex(), "seal": seal.signature.hex()}
        self._send(Commit(st.height, st.round, self.me, body))

    def _on_commit(self, message: Commit) -> None:
        st = self.state
        seal = sealing.Seal(message.sender, message.seal)
        if not sealing.seal_is_valid(seal, message.digest):
            self._evidence("invalid-seal", message.sender, commit=message.to_json())
            return
        earlier = st.seal_by_sender.get(message.sender)
        if earlier is not None:
            if earlier.digest != message.digest:
                self._evidence(
                    "double-seal",
                    message.sender,
                    commits=[earlier.to_json(), message.to_json()],
                )
            return
        st.seal_by_sender[message.sender] = message
        st.commits[message.block_hash][message.sender] = message
        self._try_finalize(message.block_hash)

    def _try_finalize(self, block_hash: bytes) -> None:
        st = self.state
        commits = st.commits.get(block_hash, {})
        if len(commits) < st.quorum:
            return
        candidate = st.candidates.get(block_hash)
        if candidate is None:
            self.sync_wanted = True
            return
        digest = sealing.header_digest(candidate.header)
        good = [sealing.Seal(c.sender, c.seal) for c in commits.values() if c.digest == digest]
        if len(good) < st.quorum:
            return
        self._finalize(candidate, good)

    def _on_round_change(self, message: RoundChange) -> None:
        st = self.state
        st.round_changes[message.round][message.sender] = message
        if message.round > st.round:
            ahead = {
                sender
                for round_, changes in st.round_changes.items()
                if round_ > st.round
                for sender in changes
            }
            if len(ahead) > len(st.validators) - st.quorum:
                target = min(r for r in st.round_changes if r > st.round)
                self._enter_round(target)

    def _check_old_seal(self, message: Commit) -> None:
        try:
            header = self.ledger.header_by_number(message.height)
        except Exception:  # noqa: BLE001 - unknown height: nothing to compare against
            return
        if sealing.header_digest(header) == message.digest:
            return
        validators = [v.public_key for v in self.ledger.validators_for(message.height)]
        seal = sealing.Seal(message.sender, message.seal)
        if message.sender in validators and sealing.seal_is_valid(seal, message.digest):
            ours = [s for s in self.ledger.seals(message.height) if s.validator == message.sender]
            if ours:
                self._evidence(
                    "double-seal",
                    message.sender,
                    height=message.height,
                    commits=[message.to_json()],
                    final_digest=sealing.header_digest(header).hex(),
                    final_seal=ours[0].signature.hex(),
                )

    def _evidence(self, kind: str, sender: str, **details: Any) -> None:
        height = int(details.pop("height", self.state.height))
        # One record per kind, validator and height: a faulty peer cannot fill the disk.
        if (kind, sender, height) in self._recorded:
            return
        if len(self._recorded) > 10_000:
            self._recorded.clear()
        self._recorded.add((kind, sender, height))
        record = {"kind": kind, "validator": sender, "height": height, **details}
        log.warning("evidence: %s by %s at height %d", kind, sender[:18], record["height"])
        self.ledger.record_evidence(record)

    # -- finality --------------------------------------------------------------------
    def _finalize(self, candidate: Candidate, seals: list[sealing.Seal]) -> None:
        self.ledger.commit(candidate, seals)
        log.info(
            "height %d: final with %d seals, %d txs",
            candidate.block.number,
            len(seals),
            len(candidate.block.transactions),
        )
        self._advance(candidate)

    def _advance(self, candidate: Candidate | None) -> None:
        if candidate is not None:
            hashes = [tx.hash for tx in candidate.block.transactions]
            self.node.on_finalized(hashes)
        self.last_began = self.state.began or time.monotonic()
        self.state = self._fresh_state()
        with self.finalized:
            self.finalized.notify_all()
        future, self.future = self.future, []
        for message in future:
            self._handle(message)

    # -- catching up -------------------------------------------------------------------
    def _sync(self) -> None:
        self.last_sync = time.monotonic()
        self.sync_wanted = False
        advanced = False
        for block, seals in self.node.fetch_ahead(self.state.height):
            st = self.state
            if block.number != st.height:
                break
            digest = sealing.header_digest(block.header)
            problems = sealing.check_quorum(seals, digest, st.keys)
            if problems:
                log.warning("sync: block #%d refused: %s", block.number, problems[0])
                break
            try:
                candidate = self._candidate(block)
            except ValidationError as exc:
                log.warning("sync: block #%d does not execute: %s", block.number, exc)
                break
            self.ledger.commit(candidate, seals)
            self.node.on_finalized([tx.hash for tx in block.transactions])
            self.state = self._fresh_state()
            advanced = True
        if advanced:
            self._advance(None)


_HANDLERS = {
    Proposal: Consensus._on_proposal,
    Prepare: Consensus._on_prepare,
    Commit: Consensus._on_commit,
    RoundChange: Consensus._on_round_change,
}
