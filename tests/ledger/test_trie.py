"""`update_trie` gives the same trie as `trie.HexaryTrie` updated one key at a time."""

from __future__ import annotations

from typing import Any

import pytest
import rlp
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st
from trie import HexaryTrie
from trie.constants import BLANK_NODE_HASH
from trie.exceptions import MissingTrieNode

from wuye.ledger.trie import update_trie

KEY = st.binary(min_size=32, max_size=32)
VALUE = st.one_of(
    st.binary(min_size=1, max_size=1),  # leaves short enough to be embedded in their parent
    st.binary(min_size=40, max_size=40),
    st.binary(min_size=1, max_size=70),
)

NIBBLES = st.one_of(st.integers(1, 4), st.integers(1, 63))  # how many last nibbles to flip


def _near(key: bytes, nibbles: int, mask: int) -> bytes:
    """`key` with only (some of) its last `nibbles` nibbles flipped."""
    flip = mask % (16**nibbles) or 1
    return (int.from_bytes(key, "big") ^ flip).to_bytes(len(key), "big")


def _sized(elements: st.SearchStrategy[Any], max_size: int) -> st.SearchStrategy[list[Any]]:
    """Lists of a length drawn uniformly (plain `st.lists` stays short)."""
    return st.integers(0, max_size).flatmap(
        lambda size: st.lists(elements, min_size=size, max_size=size)
    )


@st.composite
def key_lists(draw: st.DrawFn, max_size: int) -> list[bytes]:
    """Random 32-byte keys, and keys sharing all but their last nibbles with one of them."""
    keys = draw(_sized(KEY, max_size // 2))
    if keys:
        tweaks = st.tuples(st.integers(0, 1000), NIBBLES, st.integers(1, 2**64))
        for pick, nibbles, mask in draw(_sized(tweaks, max_size // 2)):
            keys.append(_near(keys[pick % len(keys)], nibbles, mask))
    return list(dict.fromkeys(keys))


@st.composite
def tries(draw: st.DrawFn, max_keys: int = 100) -> dict[bytes, bytes]:
    return {key: draw(VALUE) for key in draw(key_lists(max_keys))}


@st.composite
def batches(draw: st.DrawFn, initial: dict[bytes, bytes]) -> dict[bytes, bytes]:
    """Updates, deletes and unchanged sets of present keys; sets and deletes of new keys."""
    changes: dict[bytes, bytes] = {}
    actions = st.sampled_from(["keep", "update", "delete", "same"])
    for key, value in initial.items():
        action = draw(actions)
        if action == "update":
            changes[key] = draw(VALUE)
        elif action == "delete":
            changes[key] = b""
        elif action == "same":
            changes[key] = value
    fresh = draw(key_lists(40)) + [
        _near(key, nibbles, mask)
        for key, nibbles, mask in draw(
            _sized(st.tuples(st.sampled_from(sorted(initial)), NIBBLES, st.integers(1)), 30)
            if initial
            else st.just([])
        )
    ]
    for key in fresh:
        if key not in initial:
            changes[key] = draw(st.one_of(VALUE, st.just(b"")))  # b"": delete an absent key
    return changes


def _store(initial: dict[bytes, bytes]) -> tuple[dict[bytes, bytes], bytes]:
    db: dict[bytes, bytes] = {}
    trie = HexaryTrie(db)
    for key, value in initial.items():
        trie[key] = value
    return db, trie.root_hash


def _one_by_one(db: dict[bytes, bytes], root: bytes, changes: list[tuple[bytes, bytes]]) -> bytes:
    trie = HexaryTrie(dict(db), root, prune=False)
    for key, value in changes:
        if value:
            trie[key] = value
        else:
            del trie[key]
    return trie.root_hash


def _children(node: Any) -> list[Any]:
    if len(node) == 17:
        return [child for child in node[:16] if child != b""]
    return [] if node[0][0] >> 4 in (2, 3) else [node[1]]  # a leaf, or an extension


def _reachable(db: dict[bytes, bytes], root: bytes) -> set[bytes]:
    """Hashes of every stored node below `root` (and `root`)."""
    seen = {root}
    stack = [rlp.decode(db[root])]
    while stack:
        for child in _children(stack.pop()):
            if isinstance(child, list):  # embedded
                stack.append(child)
            else:
                seen.add(child)
                stack.append(rlp.decode(db[child]))
    return seen


def _check(
    initial: dict[bytes, bytes], changes: dict[bytes, bytes], order: list[bytes] | None = None
) -> tuple[bytes, dict[bytes, bytes]]:
    """Update the trie holding `initial` with `changes` both ways; compare everything."""
    db, root = _store(initial)
    new_root, new_nodes = update_trie(db, root, changes)

    order = list(changes) if order is None else order
    assert new_root == _one_by_one(db, root, [(key, changes[key]) for key in order])

    assert all(keccak(encoded) == digest for digest, encoded in new_nodes.items())
    final = {key: value for key, value in {**initial, **changes}.items() if value}
    if new_root == BLANK_NODE_HASH:
        assert not final and not new_nodes
        return new_root, new_nodes
    if new_root == root:
        assert not new_nodes
    else:
        assert new_root in new_nodes
    merged = {**db, **new_nodes}
    fresh = HexaryTrie(merged, new_root)
    for key in {**initial, **changes}:
        assert fresh.get(key) == final.get(key, b"")
    assert set(new_nodes) <= _reachable(merged, new_root)
    return new_root, new_nodes


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_batch_matches_hexary_trie_key_by_key(data: st.DataObject) -> None:
    initial = data.draw(tries())
    changes = data.draw(batches(initial))
    _check(initial, changes, data.draw(st.permutations(list(changes))))


@settings(max_examples=15, deadline=None)
@given(st.data())
def test_batch_matches_hexary_trie_on_a_larger_trie(data: st.DataObject) -> None:
    initial = data.draw(tries(max_keys=200))
    _check(initial, data.draw(batches(initial)))


@settings(max_examples=25, deadline=None)
@given(tries(max_keys=60), st.dictionaries(KEY, VALUE, max_size=10))
def test_deleting_every_key_and_adding_others(
    initial: dict[bytes, bytes], added: dict[bytes, bytes]
) -> None:
    changes = {key: b"" for key in initial}
    changes.update({key: value for key, value in added.items() if key not in initial})
    _check(initial, changes)


@settings(max_examples=60, deadline=None)
@given(
    _sized(st.tuples(st.binary(max_size=3), VALUE), 60).map(dict),
    _sized(st.tuples(st.binary(max_size=3), st.one_of(VALUE, st.just(b""))), 40).map(dict),
)
def test_keys_of_different_lengths(
    initial: dict[bytes, bytes], changes: dict[bytes, bytes]
) -> None:
    """A key that is a prefix of another is a branch's value."""
    _check(initial, changes)


def _node(nodes: dict[bytes, bytes], digest: bytes) -> Any:
    return rlp.decode(nodes[digest])


def _is_extension(node: Any) -> bool:
    return len(node) == 2 and node[0][0] >> 4 in (0, 1)


def _is_leaf(node: Any) -> bool:
    return len(node) == 2 and node[0][0] >> 4 in (2, 3)


def test_no_changes_keep_the_root() -> None:
    db, root = _store({b"\x01" * 32: b"v"})
    assert update_trie(db, root, {}) == (root, {})


def test_empty_trie_takes_a_single_leaf() -> None:
    root, nodes = _check({}, {b"\xab" * 32: b"value" * 8})
    assert _is_leaf(_node(nodes, root)) and len(nodes) == 1


def test_short_root_is_stored_by_hash() -> None:
    root, nodes = _check({}, {b"\x01": b"\x02"})
    assert len(nodes[root]) < 32 and root == keccak(nodes[root])


def test_extension_is_split_by_a_diverging_key() -> None:
    first, second = b"\x12\x34\x56" + b"\x00" * 29, b"\x12\x34\x56" + b"\xff" * 29
    db, root = _store({first: b"a" * 40, second: b"b" * 40})
    assert _is_extension(_node(db, root))
    new_root, nodes = _check({first: b"a" * 40, second: b"b" * 40}, {b"\x12\x99" * 16: b"c" * 40})
    shortened = _node(nodes, new_root)
    assert _is_extension(shortened) and shortened[0] == b"\x00\x12"  # even path 1, 2


def test_deleting_a_key_in_the_middle_of_an_extension_is_a_no_op() -> None:
    keys = {b"\x12\x34\x56" + b"\x00" * 29: b"a" * 40, b"\x12\x34\x56" + b"\xff" * 29: b"b" * 40}
    db, root = _store(keys)
    assert update_trie(db, root, {b"\x12\x99" * 16: b""}) == (root, {})


def test_branch_left_with_one_leaf_becomes_a_leaf() -> None:
    root, nodes = _check({b"\x00" * 32: b"a" * 40, b"\xff" * 32: b"b" * 40}, {b"\x00" * 32: b""})
    assert _is_leaf(_node(nodes, root))


def test_branch_left_with_one_extension_merges_into_it() -> None:
    initial = {
        b"\x00" * 32: b"a" * 40,
        b"\x11" * 31 + b"\x00": b"b" * 40,
        b"\x11" * 31 + b"\xff": b"c" * 40,
    }
    db, root = _store(initial)
    assert len(_node(db, root)) == 17
    new_root, nodes = _check(initial, {b"\x00" * 32: b""})
    merged = _node(nodes, new_root)
    assert _is_extension(merged) and merged[0] == b"\x00" + b"\x11" * 31  # 62 nibbles


def test_branch_left_with_one_branch_becomes_an_extension() -> None:
    initial = {b"\x00" * 32: b"a" * 40, b"\x10" * 32: b"b" * 40, b"\x1f" * 32: b"c" * 40}
    new_root, nodes = _check(initial, {b"\x00" * 32: b""})
    extension = _node(nodes, new_root)
    assert _is_extension(extension) and extension[0] == b"\x11"  # path 1
    assert len(nodes) == 1  # the branch below is unchanged: already stored


def test_extension_over_a_collapsed_branch_becomes_a_leaf() -> None:
    initial = {b"\x12" * 31 + b"\x00": b"a" * 40, b"\x12" * 31 + b"\xff": b"b" * 40}
    root, nodes = _check(initial, {b"\x12" * 31 + b"\xff": b""})
    assert _is_leaf(_node(nodes, root))


def test_value_on_a_branch_for_a_key_prefixing_another() -> None:
    root, nodes = _check({}, {b"\x12": b"short" * 8, b"\x12\x34": b"long" * 10})
    extension = _node(nodes, root)
    branch = _node(nodes, extension[1])
    assert _is_extension(extension) and len(branch) == 17 and branch[16] == b"short" * 8


def test_deleting_a_branch_value_collapses_the_branch() -> None:
    initial = {b"\x12": b"short" * 8, b"\x12\x34": b"long" * 10}
    root, nodes = _check(initial, {b"\x12": b""})
    assert _is_leaf(_node(nodes, root))


def test_deleting_every_key_gives_the_blank_root() -> None:
    initial = {bytes([i]) * 32: bytes([i]) * 40 for i in range(20)}
    db, root = _store(initial)
    assert update_trie(db, root, dict.fromkeys(initial, b"")) == (BLANK_NODE_HASH, {})


def test_deleting_an_absent_key_changes_nothing() -> None:
    db, root = _store({b"\x01" * 32: b"a", b"\x02" * 32: b"b"})
    assert update_trie(db, root, {b"\x01" * 31 + b"\x02": b"", b"\x03" * 32: b""}) == (root, {})
    assert update_trie({}, BLANK_NODE_HASH, {b"\x01" * 32: b""}) == (BLANK_NODE_HASH, {})


def test_setting_a_key_to_its_value_changes_nothing() -> None:
    initial = {bytes([i]) * 32: bytes([i]) * 40 for i in range(20)}
    db, root = _store(initial)
    assert update_trie(db, root, {b"\x05" * 32: b"\x05" * 40}) == (root, {})


def test_short_nodes_are_embedded_not_returned() -> None:
    initial = {bytes([i]): bytes([i]) for i in range(40)}
    root, nodes = _check({}, initial)
    assert all(len(encoded) >= 32 for digest, encoded in nodes.items() if digest != root)
    below = _node(nodes, _node(nodes, root)[0])  # keys 00 to 0f: leaves of a 1-byte value
    assert all(isinstance(child, list) for child in below[:16])


def test_a_missing_node_raises() -> None:
    db, root = _store({bytes([i]) * 32: bytes([i]) * 40 for i in range(20)})
    del db[_node(db, root)[1]]  # the branch under nibble 1
    with pytest.raises((KeyError, MissingTrieNode)):
        update_trie(db, root, {bytes([i]) * 32: b"x" for i in range(20)})
