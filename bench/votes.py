"""Benchmark: a 10,000-unit election end to end, with the public verification timed.

Phases: trustees' key ceremony, every unit's voting credential (SM2), encrypting,
proving and signing every ballot (on all cores; a few units vote twice), casting
them on an embedded ledger node, the homomorphic tally, threshold decryption, and
the whole public verification from the ledger (every counted ballot's credential
signature and proofs, the tally, the decryption proofs, Article 278).

    .venv/bin/python bench/votes.py [--units 10000] [--workers 2] [--revotes 0.02] [--no-ledger]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from wuye.crypto import SM2PrivateKey, sm3_hash  # noqa: E402
from wuye.ledger.votes import civil_code  # noqa: E402
from wuye.ledger.votes.ballot import encrypt_ballot  # noqa: E402
from wuye.ledger.votes.credentials import Credential, sign_ballot  # noqa: E402
from wuye.ledger.votes.group import decode  # noqa: E402
from wuye.ledger.votes.tally import (  # noqa: E402
    Cast,
    Manifest,
    UnitWeight,
    ceremony_context,
    decrypt_tally,
    last_ballots,
    share_tally,
    verify_ballots,
    verify_record,
)
from wuye.ledger.votes.trustees import ceremony  # noqa: E402


def _credential(ref: bytes) -> SM2PrivateKey:
    """A simulated owner's credential, derived from the unit so worker processes can sign
    (a real owner's key is random and never leaves their device)."""
    return SM2PrivateKey.from_int(int.from_bytes(sm3_hash(b"bench-credential" + ref)) % 2**250 + 1)


def _encrypt(
    job: tuple[bytes, bytes, str, list[tuple[bytes, int]]],
) -> list[tuple[bytes, bytes, bytes]]:
    key_bytes, fingerprint, election, rows = job
    from wuye.ledger.votes.ballot import ballot_context

    key = decode(key_bytes)
    out = []
    for ref, choice in rows:
        ballot, _ = encrypt_ballot(key, choice, 3, ballot_context(fingerprint, ref))
        data = ballot.encode()
        signature = sign_ballot(
            _credential(ref), election=election, fingerprint=fingerprint, unit_ref=ref, ballot=data
        )
        out.append((ref, data, signature))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--turnout", type=float, default=0.9)
    parser.add_argument("--revotes", type=float, default=0.02, help="share of voters voting twice")
    parser.add_argument("--no-ledger", action="store_true", help="skip casting on a node")
    args = parser.parse_args()
    rng = random.Random(7)
    times: dict[str, float] = {}

    def phase(name: str, started: float) -> None:
        times[name] = time.perf_counter() - started
        print(f"{name:<34} {times[name]:8.2f} s", flush=True)

    t = time.perf_counter()
    election = "bench-election"
    dealings, keys = ceremony(3, 5, ceremony_context(election))
    units = [
        UnitWeight(sm3_hash(f"unit-{i}".encode()), rng.randint(4000, 16000), i - i % 3 * (i < 300))
        for i in range(args.units)
    ]
    phase("key ceremony (3 of 5 trustees)", t)
    t = time.perf_counter()
    credentials = [Credential(u.ref, _credential(u.ref).public_key.to_bytes()) for u in units]
    manifest = Manifest(
        election, "基准 benchmark", civil_code.MatterType.FUND_USE, 3, dealings, units, credentials
    )
    phase(f"{len(credentials)} voting credentials (SM2)", t)

    voters = [u for u in units if rng.random() < args.turnout]
    voters += [u for u in voters if rng.random() < args.revotes]  # their later ballot counts
    choices = [rng.choices((0, 1, 2), weights=(6, 3, 1))[0] for _ in voters]
    t = time.perf_counter()
    size = -(-len(voters) // (args.workers * 8))
    jobs = [
        (
            manifest.public_key.encode(),
            manifest.fingerprint,
            election,
            [(u.ref, c) for u, c in zip(voters[i : i + size], choices[i : i + size], strict=True)],
        )
        for i in range(0, len(voters), size)
    ]
    with ProcessPoolExecutor(args.workers) as pool:
        encrypted = [row for chunk in pool.map(_encrypt, jobs) for row in chunk]
    casts = [Cast(ref, data, signature) for ref, data, signature in encrypted]
    counted = [casts[i] for i in last_ballots(casts)]
    phase(f"encrypt + prove + sign {len(casts)} ballots", t)

    if not args.no_ledger:
        from eth_account import Account

        from wuye.ledger.embedded import start_embedded_node
        from wuye.ledger.votes.chain import Officer, connect, deploy
        from wuye.ledger.votes.verify import verify_on_chain

        with tempfile.TemporaryDirectory() as tmp:
            node = start_embedded_node(Path(tmp), port=18645, block_interval=0.2)
            try:
                w3 = connect(node.url)
                officer = Officer(w3, Account.create().key.hex())
                _, record = deploy(w3, node.accounts[0]["privateKey"], officer.address)
                t = time.perf_counter()
                ref = officer.register(record, manifest, sm3_hash(b"bench-estate"))
                phase("register roll + manifest on ledger", t)
                t = time.perf_counter()
                pending = [
                    officer.cast(ref, c.unit_ref, c.data, c.signature, wait=False) for c in casts
                ]
                officer.wait(pending[-1])
                phase(f"cast {len(casts)} ballots on ledger", t)
                officer.close(ref)
                t = time.perf_counter()
                failures, tally = verify_ballots(manifest, counted, workers=args.workers)
                phase("tally (with ballot checks)", t)
                t = time.perf_counter()
                shares: dict = {}
                for key in keys[:3]:
                    for k, share in share_tally(manifest, key, tally).items():
                        shares.setdefault(k, []).append(share)
                result = decrypt_tally(manifest, tally, shares, len(counted))
                officer.publish_result(ref, result, result.decision(manifest))
                phase("threshold decryption + publish", t)
                t = time.perf_counter()
                _, report = verify_on_chain(w3, ref, workers=args.workers)
                phase("PUBLIC VERIFICATION from RPC", t)
            finally:
                node.stop()
    else:
        t = time.perf_counter()
        failures, tally = verify_ballots(manifest, counted, workers=args.workers)
        phase("tally (with ballot checks)", t)
        t = time.perf_counter()
        shares = {}
        for key in keys[:3]:
            for k, share in share_tally(manifest, key, tally).items():
                shares.setdefault(k, []).append(share)
        result = decrypt_tally(manifest, tally, shares, len(counted))
        phase("threshold decryption", t)
        t = time.perf_counter()
        report = verify_record(manifest, casts, result, workers=args.workers)
        phase("PUBLIC VERIFICATION (record)", t)
    verify_time = times[next(k for k in times if k.startswith("PUBLIC"))]
    print(
        f"verified ok: {report.ok}; {report.ballots_verified} counted ballots "
        f"({len(casts) - len(counted)} superseded), "
        f"{report.ballots_verified / verify_time:,.0f} ballots verified per second"
    )
    for ok, text in report.lines[-3:]:
        print(("  ok  " if ok else "  FAIL ") + text)


if __name__ == "__main__":
    main()
