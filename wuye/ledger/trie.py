"""Batched updates of an Ethereum Merkle Patricia trie (Yellow Paper, appendix D).

`update_trie` applies a whole batch of key changes to a trie stored as `trie.HexaryTrie` stores
it, visiting each node on the changed paths once instead of once per changed key, and gives the
same root as applying the changes one by one to a `HexaryTrie`. It hashes with `eth_hash`'s
keccak (without `eth_utils.keccak`'s argument checks), which `wuye.ledger.genesis.use_fast_keccak`
points at the C backend (not imported here: the ledger's storage, which genesis imports, uses
this module).
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import groupby
from typing import Any, Protocol

from eth_hash.auto import keccak
from trie.constants import BLANK_NODE_HASH

__all__ = ["decode_node", "encode_node", "update_trie"]

# A decoded node, as `HexaryTrie` decodes it: b"" (blank), [hex-prefixed path, value or child
# reference] (leaf or extension) or 16 child references and a value (branch). A child reference
# is a node's keccak when its encoding is 32 bytes or longer, else the decoded node itself.
Node = Any

# Paths are hex strings, one character per nibble: slicing, comparing and sorting them is
# much cheaper than on tuples of nibbles, and `bytes.hex`/`bytes.fromhex` convert them.
_NIBBLE = {c: i for i, c in enumerate("0123456789abcdef")}
_HEX = "0123456789abcdef"


class NodeDB(Protocol):
    def __getitem__(self, node_hash: bytes, /) -> bytes: ...


def update_trie(
    db: NodeDB, root_hash: bytes, changes: Mapping[bytes, bytes]
) -> tuple[bytes, dict[bytes, bytes]]:
    """Apply `changes` (key -> new value, b"" deletes) to the trie at `root_hash`.

    Returns the new root hash and the new nodes (keccak(encoding) -> encoding) to write: those
    of 32 bytes or more on the changed paths, and the root, which is stored by hash however
    short, as `HexaryTrie` stores it. All of them are reachable from the new root; nodes that
    become unreachable are left in `db`. Keys may have any length (a key that is a prefix of
    another is a branch's value). A node missing from `db` raises whatever `db` raises.
    """
    if not changes:
        return root_hash, {}
    for key, value in changes.items():
        if not isinstance(key, bytes) or not isinstance(value, bytes):
            raise TypeError(f"trie keys and values must be bytes: {key!r} -> {value!r}")
    items = sorted((key.hex(), value) for key, value in changes.items())
    update = _Update(db)
    root = b"" if root_hash == BLANK_NODE_HASH else decode_node(db[root_hash])
    new_root = update.node(root, items, 0)
    if new_root is None:
        return root_hash, {}
    if new_root == b"":
        return BLANK_NODE_HASH, update.nodes
    encoded = _encode(new_root)
    new_hash = keccak(encoded)
    update.nodes[new_hash] = encoded
    return new_hash, update.nodes


def _hex_prefix(path: str, leaf: bool) -> bytes:
    """Hex-prefix encoding of a path (Yellow Paper, appendix C)."""
    if len(path) % 2:
        return bytes.fromhex(("3" if leaf else "1") + path)
    return bytes.fromhex(("20" if leaf else "00") + path)


def _split(node: list[Any]) -> tuple[str, bool]:
    """The path of a leaf or extension node, and whether it is a leaf."""
    prefixed = node[0].hex()
    flag = prefixed[0]
    return prefixed[2 - (flag in "13") :], flag in "23"


def _common(a: str, b: str, start: int) -> int:
    """Length of the common prefix of `a` and `b`, known to share their first `start` nibbles."""
    end = min(len(a), len(b))
    while start < end and a[start] == b[start]:
        start += 1
    return start


class _Update:
    """One batch: reads nodes from `db`, collects the new hashed nodes in `nodes`.

    Every method takes `items`, a sorted list of distinct (key as hex, value) pairs whose keys
    all begin with the `depth` nibbles that lead to the node, and returns the updated node, not
    yet referenced: its parent decides whether it stays a node of its own (and is hashed only
    then) or merges into the parent, so no node that ends up unreachable is ever returned.
    """

    __slots__ = ("db", "nodes")

    def __init__(self, db: NodeDB) -> None:
        self.db = db
        self.nodes: dict[bytes, bytes] = {}

    def resolve(self, ref: Node) -> Node:
        if isinstance(ref, list) or ref == b"":
            return ref
        return decode_node(self.db[ref])

    def ref(self, node: Node) -> Node:
        encoded = _encode(node)
        if len(encoded) < 32:
            return node
        digest = keccak(encoded)
        self.nodes[digest] = encoded
        return digest

    def node(self, node: Node, items: list[tuple[str, bytes]], depth: int) -> Node | None:
        """The node after the changes, or None if they leave it as it was."""
        if node == b"":
            live = [item for item in items if item[1]]
            return self.build(live, depth) if live else None
        if len(node) == 17:
            return self.branch(node, items, depth)
        path, leaf = _split(node)
        if leaf:
            key = items[0][0][:depth] + path
            merged = {key: node[1]}
            for k, value in items:
                if value:
                    merged[k] = value
                else:
                    merged.pop(k, None)
            if len(merged) == 1 and merged.get(key) == node[1]:
                return None
            return self.build(sorted(merged.items()), depth) if merged else b""
        # An extension: the sorted keys' common prefix with its path is the first's or the last's.
        end = depth + len(path)
        first, last = items[0][0], items[-1][0]
        full = first[:depth] + path
        split = min(_common(first, full, depth), _common(last, full, depth))
        if split >= end:
            new_child = self.node(self.resolve(node[1]), items, end)
            return None if new_child is None else self.wrap(path, new_child)
        # Some key leaves the path at nibble `split`: go on as if a branch stood there.
        at = split - depth
        branch = [b""] * 17
        rest = path[at + 1 :]
        pending = None
        if rest:
            pending = (_NIBBLE[path[at]], [_hex_prefix(rest, False), node[1]])
        else:
            branch[_NIBBLE[path[at]]] = node[1]
        new_branch = self.branch(branch, items, split, pending)
        if new_branch is None:
            return None
        return self.wrap(path[:at], new_branch) if at else new_branch

    def branch(
        self,
        node: list[Any],
        items: list[tuple[str, bytes]],
        depth: int,
        pending: tuple[int, Node] | None = None,
    ) -> Node | None:
        """A branch after the changes; `pending` is a child not yet referenced, if any."""
        new = node[:]
        children: dict[int, Node] = {}  # updated children, not referenced yet
        if pending is not None:
            children[pending[0]] = pending[1]
        changed = False
        if len(items[0][0]) == depth:  # only the first, shortest, key can end here
            if items[0][1] != node[16]:
                new[16] = items[0][1]
                changed = True
            items = items[1:]
        for nibble, group in groupby(items, key=lambda item: item[0][depth]):
            index = _NIBBLE[nibble]
            child = children[index] if index in children else self.resolve(node[index])
            new_child = self.node(child, list(group), depth + 1)
            if new_child is not None:
                children[index] = new_child
                changed = True
        if not changed:
            return None
        for index, child in children.items():
            new[index] = child
        remaining = [index for index in range(16) if new[index] != b""]
        if len(remaining) + (new[16] != b"") >= 2:
            for index, child in children.items():
                if child != b"":
                    new[index] = self.ref(child)
            return new
        if not remaining:
            return [_hex_prefix("", True), new[16]] if new[16] else b""
        # A single child left and no value: the branch becomes an extension or merges into it.
        index = remaining[0]
        if index in children:
            return self.wrap(_HEX[index], children[index])
        child = self.resolve(node[index])
        if len(child) == 17:  # keep its existing reference: it is already stored
            return [_hex_prefix(_HEX[index], False), node[index]]
        return self.wrap(_HEX[index], child)

    def wrap(self, path: str, node: Node) -> Node:
        """`node` below an extension of `path`, merged into it when it is a leaf or extension."""
        if node == b"":
            return b""
        if len(node) == 17:
            return [_hex_prefix(path, False), self.ref(node)]
        child_path, leaf = _split(node)
        return [_hex_prefix(path + child_path, leaf), node[1]]

    def build(self, items: list[tuple[str, bytes]], depth: int) -> Node:
        """A fresh subtrie holding `items`, which are all non-empty."""
        if len(items) == 1:
            key, value = items[0]
            return [_hex_prefix(key[depth:], True), value]
        first, last = items[0][0], items[-1][0]  # sorted: their common prefix is everyone's
        common = _common(first, last, depth)
        if common > depth:
            return [_hex_prefix(first[depth:common], False), self.ref(self.build(items, common))]
        branch: list[Any] = [b""] * 17
        if len(first) == depth:
            branch[16] = items[0][1]
            items = items[1:]
        for nibble, group in groupby(items, key=lambda item: item[0][depth]):
            branch[_NIBBLE[nibble]] = self.ref(self.build(list(group), depth + 1))
        return branch


# RLP (Yellow Paper, appendix B) of trie nodes: lists of byte strings and embedded nodes.
# Specialised versions of `rlp.codec.encode_raw` and `rlp.decode`, several times cheaper per
# node; the nodes come from the ledger's own database, so decoding does not re-check that they
# are canonical.


_PREFIX = [bytes((0x80 + size,)) for size in range(56)]


def _encode(node: list[Any]) -> bytes:
    # Most items are blank (b"") or a 32-byte hash: those two skip the general case.
    payload = b"".join(
        [
            b"\x80"
            if not item
            else b"\xa0" + item
            if len(item) == 32 and not isinstance(item, list)
            else _encode_item(item)
            for item in node
        ]
    )
    size = len(payload)
    if size < 56:
        return bytes((0xC0 + size,)) + payload
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((0xF7 + len(length),)) + length + payload


def _encode_item(item: Node) -> bytes:
    if isinstance(item, list):
        return _encode(item)
    size = len(item)
    if size == 1 and item[0] < 0x80:
        return bytes(item)
    if size < 56:
        return _PREFIX[size] + item
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((0xB7 + len(length),)) + length + item


def encode_node(node: list[Any]) -> bytes:
    """The RLP encoding of a list of byte strings and embedded lists (a trie node, an account)."""
    return _encode(node)


def decode_node(encoded: bytes) -> Node:
    """A trie node from its RLP encoding, as `rlp.decode` gives it (nodes from our own store)."""
    node, end = _decode_at(encoded, 0)
    if end != len(encoded):
        raise ValueError(f"trailing bytes after trie node {encoded.hex()}")
    return node


def _decode_at(data: bytes, pos: int) -> tuple[list[Any], int]:
    """The list at `pos` and where it ends (a node is a list of strings and embedded nodes)."""
    prefix = data[pos]
    if prefix < 0xC0:
        raise ValueError(f"trie node is not an RLP list: {data.hex()}")
    if prefix < 0xF8:
        start = pos + 1
        end = start + prefix - 0xC0
    else:
        start = pos + 1 + prefix - 0xF7
        end = start + int.from_bytes(data[pos + 1 : start], "big")
    items: list[Any] = []
    append = items.append
    while start < end:
        prefix = data[start]
        if prefix < 0x80:
            append(data[start : start + 1])
            start += 1
        elif prefix < 0xB8:
            start += 1
            stop = start + prefix - 0x80
            append(data[start:stop])
            start = stop
        elif prefix < 0xC0:
            stop = start + 1 + prefix - 0xB7
            size = int.from_bytes(data[start + 1 : stop], "big")
            append(data[stop : stop + size])
            start = stop + size
        else:
            item, start = _decode_at(data, start)
            append(item)
    return items, end
