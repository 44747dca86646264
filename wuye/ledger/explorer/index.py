"""Every event of a ledger, decoded once and kept in memory, read on from where it stopped.

The explorer's listings, searches and charts all filter this index. On each use it asks
the node for the logs of the blocks sealed since the last use only (blocks are final,
so nothing read ever changes), and it links events that name their estate only
indirectly: a vote names its ballot, a unit's share of a repair names the project, and
earlier events name the ballot's or the project's estate (and the project's reference).
One index per node URL and genesis hash; a node with another chain gets a new one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

from wuye.ledger.explorer.client import LedgerClient, qty
from wuye.ledger.explorer.decoders import DecodedEvent, decode_log
from wuye.ledger.explorer.names import Names

#: Blocks asked for per eth_getLogs call while catching up.
SCAN_STEP = 2000


@dataclass
class EventIndex:
    """The decoded events of one chain up to block ``synced``."""

    url: str
    genesis_hash: str
    synced: int = -1
    events: list[DecodedEvent] = field(default_factory=list)
    block_times: dict[int, int] = field(default_factory=dict)
    ballot_estate: dict[tuple[str, int], str] = field(default_factory=dict)
    ballot_by_id: dict[int, str] = field(default_factory=dict)
    project_estate: dict[tuple[str, int], str] = field(default_factory=dict)
    project_refs: dict[tuple[str, int], str] = field(default_factory=dict)
    unit_estate: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def refresh(self, client: LedgerClient) -> int:
        """Read and decode the logs of blocks sealed since the last call; returns the head."""
        head = client.head()
        with self.lock:
            while self.synced < head:
                start, end = self.synced + 1, min(head, self.synced + SCAN_STEP)
                logs = client.logs(start, end)
                wanted = sorted({qty(e["blockNumber"]) for e in logs} - set(self.block_times))
                self.block_times.update(client.timestamps(wanted))
                for log in logs:
                    when = self.block_times[qty(log["blockNumber"])]
                    self._add(decode_log(log, Names(), when))
                self.synced = end
        return head

    def _add(self, event: DecodedEvent) -> None:
        m = event.meaning
        address = event.address.lower()
        if m.ballot is not None:
            if m.estate:
                self.ballot_estate[(address, m.ballot)] = m.estate
                self.ballot_by_id[m.ballot] = m.estate
            elif event.estate is None:
                event.estate = self.ballot_estate.get((address, m.ballot)) or self.ballot_by_id.get(
                    m.ballot
                )
        if m.project is not None:
            key = (address, m.project)
            if event.estate:
                self.project_estate.setdefault(key, event.estate)
            else:
                event.estate = self.project_estate.get(key)
            if event.project_ref:
                self.project_refs.setdefault(key, event.project_ref)
            else:
                event.project_ref = self.project_refs.get(key)
        if m.unit and event.estate:
            self.unit_estate.setdefault(m.unit.lower(), event.estate)
        elif m.unit and event.estate is None:
            event.estate = self.unit_estate.get(m.unit.lower())
        self.events.append(event)

    def snapshot(self) -> list[DecodedEvent]:
        with self.lock:
            return list(self.events)


_INDEXES: dict[tuple[str, str], EventIndex] = {}
_INDEXES_LOCK = threading.Lock()


def index_for(client: LedgerClient) -> EventIndex:
    """The (refreshed) index of the chain ``client`` reads."""
    genesis = client.block(0)
    genesis_hash = genesis["hash"] if genesis else ""
    key = (client.url, genesis_hash)
    with _INDEXES_LOCK:
        index = _INDEXES.get(key)
        if index is None:
            for old in [k for k in _INDEXES if k[0] == client.url]:
                del _INDEXES[old]  # the node at this URL now serves another chain
            index = _INDEXES[key] = EventIndex(client.url, genesis_hash)
    index.refresh(client)
    return index


@dataclass
class EventFilter:
    """What a search asks for; every given part must match (empty parts match all)."""

    estates: set[str] = field(default_factory=set)
    units: set[str] = field(default_factory=set)
    subjects: set[str] = field(default_factory=set)
    refs: set[str] = field(default_factory=set)  # any reference of any kind
    category: str = ""
    tx_hash: str = ""
    address: str = ""
    from_block: int | None = None
    to_block: int | None = None
    since: int | None = None  # unix time, inclusive
    until: int | None = None  # unix time, exclusive

    def matches(self, event: DecodedEvent, names: Names) -> bool:
        m = event.meaning
        estate = (event.estate or "").lower()
        unit = (m.unit or "").lower()
        subject = (m.subject or "").lower()
        if self.estates and estate not in self.estates:
            named = names.named(unit)
            if not (named and named.estate_ref in self.estates):
                return False
        if self.units and unit not in self.units:
            return False
        if self.subjects and subject not in self.subjects:
            return False
        if self.refs and not self.refs & {estate, unit, subject}:
            return False
        if self.category and m.category != self.category:
            return False
        if self.tx_hash and event.tx_hash.lower() != self.tx_hash.lower():
            return False
        if self.address and event.address.lower() != self.address.lower():
            return False
        if self.from_block is not None and event.block < self.from_block:
            return False
        if self.to_block is not None and event.block > self.to_block:
            return False
        if self.since is not None and event.when < self.since:
            return False
        return self.until is None or event.when < self.until

    def apply(self, events: Iterable[DecodedEvent], names: Names) -> list[DecodedEvent]:
        return [e for e in events if self.matches(e, names)]
