"""An election's public record, its weighted homomorphic tally, and verifying all of it.

The record is everything anyone needs to re-check an election without trusting
the platform: the manifest (matter, options, trustees' key commitments, each
unit's area and headcount group, the units' voting credentials), the encrypted
ballots in ledger order with their credential signatures, the tally's decryption
shares with their proofs, and the counts and decision. A unit may vote again
while the vote is open; only its last ballot on the ledger counts
(:func:`last_ballots`). It is
published on the ledger (see :mod:`wuye.ledger.votes.chain`); :func:`verify_record`
re-derives every figure from it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from wuye.crypto import sm3_hash
from wuye.crypto.errors import CryptoError, MalformedInputError
from wuye.ledger.votes import civil_code
from wuye.ledger.votes.ballot import OPTIONS, EncryptedBallot, ballot_context, decode_ballot
from wuye.ledger.votes.credentials import (
    Credential,
    encode_credentials,
    verify_ballot_signature,
)
from wuye.ledger.votes.elgamal import Ciphertext, discrete_log
from wuye.ledger.votes.group import Point, decode, msm
from wuye.ledger.votes.trustees import (
    Dealing,
    DecryptionShare,
    TrusteeKey,
    combine,
    election_key,
    verification_key,
)
from wuye.ledger.votes.zkp import BatchVerifier, ProofError, SchnorrProof

__all__ = [
    "Cast",
    "Endorsement",
    "ceremony_context",
    "endorsement_context",
    "Manifest",
    "Result",
    "UnitWeight",
    "VerificationReport",
    "check_endorsements",
    "decrypt_tally",
    "head_flags",
    "last_ballots",
    "share_tally",
    "tally_ciphertexts",
    "valid_endorsers",
    "verify_ballots",
    "verify_record",
]

#: Tally ciphertexts: (option index, "area" | "heads").
TallyKey = tuple[int, str]
WEIGHTINGS = ("area", "heads")


def ceremony_context(election: str) -> bytes:
    """What the trustees' key proofs are bound to (known before the manifest exists)."""
    return b"wuye-trustees:" + election.encode()


def endorsement_context(election: str, credentials_digest: bytes) -> bytes:
    """What a trustee's endorsement of the credential list is bound to: the election and
    the SM3 digest of the list (the manifest's ``credentials_digest``)."""
    return ceremony_context(election) + b":endorses-credentials:" + credentials_digest


@dataclass(slots=True)
class Endorsement:
    """Trustee ``index`` vouches for a credential list: a Schnorr proof that it knows its
    key share ``xⱼ`` for ``Xⱼ = verification_key(dealings, index)``, bound by
    :func:`endorsement_context` to the election and the list's digest. Only the trustee's
    device holds ``xⱼ``, so the platform cannot make one."""

    index: int
    proof: dict[str, Any]  # SchnorrProof JSON, kept as published (the header's bytes)

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "proof": dict(self.proof)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Endorsement:
        if not isinstance(data.get("proof"), dict):
            raise MalformedInputError("an endorsement needs a proof")
        return cls(int(data["index"]), dict(data["proof"]))

    def verify(self, dealings: Sequence[Dealing], election: str, digest: bytes) -> None:
        """Raise :class:`ProofError` unless trustee ``index`` endorsed the list ``digest``."""
        if not 1 <= self.index <= len(dealings):
            raise ProofError(f"no trustee {self.index} in this election")
        try:
            proof = SchnorrProof.from_json(self.proof)
        except (CryptoError, KeyError, TypeError, ValueError) as exc:
            raise ProofError(f"malformed endorsement proof ({exc})") from exc
        proof.verify(
            verification_key(list(dealings), self.index), endorsement_context(election, digest)
        )


@dataclass(frozen=True, slots=True)
class UnitWeight:
    """A unit on the electoral roll: its public reference, area in 0.01 m², head group."""

    ref: bytes
    area: int
    group: int

    def encode(self) -> bytes:
        return self.ref + self.area.to_bytes(8, "big") + self.group.to_bytes(4, "big")


def encode_units(units: Sequence[UnitWeight]) -> bytes:
    return b"".join(u.encode() for u in units)


def decode_units(data: bytes) -> list[UnitWeight]:
    if len(data) % 44:
        raise MalformedInputError("unit roll has a partial entry")
    return [
        UnitWeight(
            data[i : i + 32],
            int.from_bytes(data[i + 32 : i + 40], "big"),
            int.from_bytes(data[i + 40 : i + 44], "big"),
        )
        for i in range(0, len(data), 44)
    ]


@dataclass
class Manifest:
    """The public parameters of one election, fixed before it opens."""

    election: str
    title: str
    matter: civil_code.MatterType
    threshold: int
    dealings: list[Dealing]
    units: list[UnitWeight]
    #: The units' voting credentials (unit ref -> SM2 public key), fixed when the vote opens.
    credentials: list[Credential] = field(default_factory=list)
    options: int = len(OPTIONS)
    _key: Point | None = field(default=None, repr=False)
    #: How many trustees must endorse the credential list (0: none, as before).
    endorsements_required: int = 0
    #: The trustees' endorsements of :attr:`credentials` (only when some are required).
    endorsements: list[Endorsement] = field(default_factory=list)

    def credentials_digest(self) -> bytes:
        """SM3 of the credential list, as the header's ``credentials_digest``."""
        return sm3_hash(encode_credentials(self.credentials))

    def header(self) -> dict[str, Any]:
        header = self._base_header()
        if self.endorsements_required > 0:
            # Only then (as version 3): the fingerprints of elections without endorsements
            # are unchanged, and a verifier that knows only version 2 refuses rather than
            # skipping the check.
            header["version"] = 3
            header["credential_endorsements"] = {
                "required": self.endorsements_required,
                "endorsements": [e.to_json() for e in self.endorsements],
            }
        return header

    def _base_header(self) -> dict[str, Any]:
        return {
            "version": 2,
            "election": self.election,
            "title": self.title,
            "matter": self.matter.value,
            "options": [o[0] for o in OPTIONS[: self.options]],
            "threshold": self.threshold,
            "trustees": [d.to_json() for d in self.dealings],
            "unit_count": len(self.units),
            "units_digest": sm3_hash(encode_units(self.units)).hex(),
            "credential_count": len(self.credentials),
            "credentials_digest": self.credentials_digest().hex(),
        }

    def header_bytes(self) -> bytes:
        return json.dumps(self.header(), sort_keys=True, separators=(",", ":")).encode()

    @property
    def fingerprint(self) -> bytes:
        """SM3 of the canonical header (which covers the unit roll and the credential list
        through their digests)."""
        return sm3_hash(self.header_bytes())

    @property
    def public_key(self) -> Point:
        if self._key is None:
            self._key = election_key(self.dealings)
        return self._key

    @classmethod
    def from_parts(
        cls,
        header: dict[str, Any],
        units: list[UnitWeight],
        credentials: list[Credential] | None = None,
    ) -> Manifest:
        if sm3_hash(encode_units(units)).hex() != header["units_digest"]:
            raise MalformedInputError("the unit roll does not match the manifest's digest")
        if len(units) != header["unit_count"]:
            raise MalformedInputError("the unit roll has the wrong number of units")
        credentials = credentials or []
        if "credentials_digest" not in header:
            raise MalformedInputError("the manifest names no credential list")
        if sm3_hash(encode_credentials(credentials)).hex() != header["credentials_digest"]:
            raise MalformedInputError(
                "the published credential list does not match the manifest's digest"
            )
        version = header.get("version")
        if version not in (2, 3) or (version == 3) != ("credential_endorsements" in header):
            raise MalformedInputError(f"unknown manifest version {version!r}")
        required, endorsements = 0, []
        if "credential_endorsements" in header:
            try:
                section = header["credential_endorsements"]
                required = int(section["required"])
                endorsements = [Endorsement.from_json(e) for e in section["endorsements"]]
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise MalformedInputError(
                    f"the manifest's credential endorsements are malformed ({exc})"
                ) from exc
        return cls(
            election=header["election"],
            title=header["title"],
            matter=civil_code.MatterType(header["matter"]),
            threshold=int(header["threshold"]),
            dealings=[Dealing.from_json(d) for d in header["trustees"]],
            units=units,
            credentials=credentials,
            options=len(header["options"]),
            endorsements_required=required,
            endorsements=endorsements,
        )

    def context(self, unit_ref: bytes) -> bytes:
        return ballot_context(self.fingerprint, unit_ref)

    def credential_of(self) -> dict[bytes, bytes]:
        """Unit ref -> the unit's credential public key (65 bytes)."""
        return {c.unit_ref: c.public_key for c in self.credentials}

    def eligible(self) -> tuple[int, int]:
        """Total area (0.01 m²) and total heads of the electorate."""
        return sum(u.area for u in self.units), len({u.group for u in self.units})


@dataclass(frozen=True, slots=True)
class Cast:
    """A ballot as the ledger ordered it, with its credential signature (DER)."""

    unit_ref: bytes
    data: bytes  # canonical encoding; its SM3 is the tracker
    signature: bytes = b""

    @property
    def tracker(self) -> bytes:
        return sm3_hash(self.data)


def last_ballots(casts: Sequence[Cast]) -> list[int]:
    """Indices of each unit's last ballot, in ledger order: a unit may vote again until the
    vote closes, and only its last ballot counts (earlier ones are superseded)."""
    last: dict[bytes, int] = {}
    for index, cast in enumerate(casts):
        last[cast.unit_ref] = index
    return sorted(last.values())


def head_flags(manifest: Manifest, casts: Sequence[Cast]) -> list[int]:
    """1 for the first ballot cast in each headcount group, 0 for the rest (judicial
    interpretation art. 9: one buyer of several units counts once)."""
    group_of = {u.ref: u.group for u in manifest.units}
    seen: set[int] = set()
    flags = []
    for cast in casts:
        group = group_of[cast.unit_ref]
        flags.append(0 if group in seen else 1)
        seen.add(group)
    return flags


Row = tuple[bytes, bytes, int, int, bytes, bytes]


def _verify_chunk(
    args: tuple[bytes, bytes, str, int, list[Row]],
) -> tuple[list[tuple[int, str]], dict[str, str]]:
    """Worker: check a chunk's credential signatures and ballots (one batch of proofs, then
    one by one if the batch fails) and return the failures and the chunk's partial
    weighted sums (encoded points)."""
    key_bytes, fingerprint, election, options, chunk = args
    public_key = decode(key_bytes)
    failures: list[tuple[int, str]] = []
    decoded: list[tuple[int, EncryptedBallot, int, int]] = []
    batch = BatchVerifier()
    for index, (unit_ref, data, area, head, credential, signature) in enumerate(chunk):
        if not credential:
            failures.append((index, "the unit has no credential on the published list"))
            continue
        try:
            verify_ballot_signature(
                credential,
                signature,
                election=election,
                fingerprint=fingerprint,
                unit_ref=unit_ref,
                tracker=sm3_hash(data),
            )
        except CryptoError as exc:
            failures.append((index, f"credential signature: {exc}"))
            continue
        try:
            ballot = decode_ballot(data)
            ballot.queue(public_key, ballot_context(fingerprint, unit_ref), options, batch)
        except (ProofError, CryptoError, ValueError) as exc:
            failures.append((index, str(exc)))
            continue
        decoded.append((index, ballot, area, head))
    if not batch.holds():
        good = []
        for index, ballot, area, head in decoded:
            unit_ref = chunk[index][0]
            try:
                ballot.verify(public_key, ballot_context(fingerprint, unit_ref), options)
            except ProofError as exc:
                failures.append((index, str(exc)))
                continue
            good.append((index, ballot, area, head))
        decoded = good
    partial: dict[str, str] = {}
    for j in range(options):
        for weighting in WEIGHTINGS:
            terms = [
                (area if weighting == "area" else head, ballot.choices[j][0])
                for _, ballot, area, head in decoded
            ]
            for part in ("alpha", "beta"):
                point = msm([(w, getattr(ct, part)) for w, ct in terms])
                partial[f"{j}:{weighting}:{part}"] = (
                    point.encode().hex() if not (point.is_infinity) else ""
                )
    return sorted(failures), partial


def verify_ballots(
    manifest: Manifest,
    casts: Sequence[Cast],
    *,
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[dict[int, str], dict[TallyKey, Ciphertext | None]]:
    """Check every ballot's credential signature and proofs and compute the weighted tally,
    on ``workers`` processes. ``casts`` are the counted ballots (see :func:`last_ballots`).

    Returns the failures (cast index -> reason) and, per option and weighting, the
    tally ciphertext over the valid ballots (None where no ballot contributes).
    """
    area_of = {u.ref: u.area for u in manifest.units}
    credential_of = manifest.credential_of()
    flags = head_flags(manifest, casts)
    rows = [
        (
            c.unit_ref,
            c.data,
            area_of[c.unit_ref],
            f,
            credential_of.get(c.unit_ref, b""),
            c.signature,
        )
        for c, f in zip(casts, flags, strict=True)
    ]
    workers = workers or min(2, os.cpu_count() or 1)
    size = max(1, -(-len(rows) // (workers * 4)))
    chunks = [rows[i : i + size] for i in range(0, len(rows), size)]
    key = manifest.public_key.encode()
    jobs = [
        (key, manifest.fingerprint, manifest.election, manifest.options, chunk) for chunk in chunks
    ]
    if workers > 1 and len(chunks) > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = list(pool.map(_verify_chunk, jobs))
    else:
        results = [_verify_chunk(job) for job in jobs]
    failures: dict[int, str] = {}
    sums: dict[str, list[Point]] = {}
    for n, (chunk_failures, partial) in enumerate(results):
        for index, reason in chunk_failures:
            failures[n * size + index] = reason
        for name, encoded in partial.items():
            if encoded:
                sums.setdefault(name, []).append(decode(encoded))
    if progress:
        progress(f"{len(casts) - len(failures)}/{len(casts)} ballots verified")
    tally: dict[TallyKey, Ciphertext | None] = {}
    for j in range(manifest.options):
        for weighting in WEIGHTINGS:
            alphas = sums.get(f"{j}:{weighting}:alpha", [])
            betas = sums.get(f"{j}:{weighting}:beta", [])
            if not alphas:
                tally[(j, weighting)] = None
                continue
            tally[(j, weighting)] = Ciphertext(
                msm([(1, p) for p in alphas]), msm([(1, p) for p in betas])
            )
    return failures, tally


def tally_ciphertexts(
    manifest: Manifest, casts: Sequence[Cast]
) -> dict[TallyKey, Ciphertext | None]:
    """The weighted tally of ``casts`` (the counted ballots, all assumed valid), in this
    process."""
    failures, tally = verify_ballots(manifest, casts, workers=1)
    if failures:
        raise ProofError(f"ballot {min(failures)} is invalid: {failures[min(failures)]}")
    return tally


def tally_context(manifest: Manifest, key: TallyKey) -> bytes:
    return sm3_hash(manifest.fingerprint + f"tally:{key[0]}:{key[1]}".encode())


@dataclass
class Result:
    """The decrypted tally: counts per option and weighting, and the shares proving them."""

    counts: dict[TallyKey, int]
    shares: dict[TallyKey, list[DecryptionShare]]
    cast_count: int

    def to_json(self) -> dict[str, Any]:
        return {
            "cast_count": self.cast_count,
            "counts": {f"{j}:{w}": n for (j, w), n in sorted(self.counts.items())},
            "shares": {
                f"{j}:{w}": [s.to_json() for s in shares]
                for (j, w), shares in sorted(self.shares.items())
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Result:
        def key(text: str) -> TallyKey:
            j, w = text.split(":")
            return int(j), w

        return cls(
            counts={key(k): int(v) for k, v in data["counts"].items()},
            shares={
                key(k): [DecryptionShare.from_json(s) for s in v] for k, v in data["shares"].items()
            },
            cast_count=int(data["cast_count"]),
        )

    def totals(self, manifest: Manifest) -> civil_code.Totals:
        eligible_area, eligible_heads = manifest.eligible()
        area = sum(self.counts.get((j, "area"), 0) for j in range(manifest.options))
        heads = sum(self.counts.get((j, "heads"), 0) for j in range(manifest.options))
        return civil_code.Totals(
            eligible_area=eligible_area,
            eligible_heads=eligible_heads,
            participating_area=area,
            participating_heads=heads,
            agree_area=self.counts.get((0, "area"), 0),
            agree_heads=self.counts.get((0, "heads"), 0),
        )

    def decision(self, manifest: Manifest) -> civil_code.Decision:
        return civil_code.decide(manifest.matter, self.totals(manifest))


def share_tally(
    manifest: Manifest, key: TrusteeKey, tally: dict[TallyKey, Ciphertext | None]
) -> dict[TallyKey, DecryptionShare]:
    """One trustee's decryption shares of every tally ciphertext, with proofs."""
    return {
        k: DecryptionShare.create(key, ct, tally_context(manifest, k))
        for k, ct in tally.items()
        if ct is not None
    }


def decrypt_tally(
    manifest: Manifest,
    tally: dict[TallyKey, Ciphertext | None],
    shares: dict[TallyKey, list[DecryptionShare]],
    cast_count: int,
) -> Result:
    """Check the trustees' shares, combine k of them and find each count by baby-step
    giant-step, bounded by the electorate's total area or heads."""
    eligible_area, eligible_heads = manifest.eligible()
    counts: dict[TallyKey, int] = {}
    for k, ct in tally.items():
        if ct is None:
            counts[k] = 0
            continue
        good = _checked_shares(manifest, k, ct, shares.get(k, []))
        point = combine(ct, good, manifest.threshold)
        bound = eligible_area if k[1] == "area" else eligible_heads
        counts[k] = discrete_log(point, bound)
    return Result(counts, {k: v for k, v in shares.items() if tally.get(k)}, cast_count)


def _checked_shares(
    manifest: Manifest, k: TallyKey, ct: Ciphertext, shares: list[DecryptionShare]
) -> list[DecryptionShare]:
    good = []
    for share in shares:
        if not 1 <= share.index <= len(manifest.dealings):
            raise ProofError(f"decryption share from unknown trustee {share.index}")
        x_point = verification_key(manifest.dealings, share.index)
        share.verify(x_point, ct, tally_context(manifest, k))
        good.append(share)
    if len({s.index for s in good}) < manifest.threshold:
        raise ProofError(
            f"tally {k[0]}:{k[1]} has {len(good)} valid decryption shares, "
            f"{manifest.threshold} needed"
        )
    return good


@dataclass
class VerificationReport:
    """What :func:`verify_record` checked, line by line, and whether all of it held."""

    lines: list[tuple[bool, str]] = field(default_factory=list)
    counts: dict[TallyKey, int] = field(default_factory=dict)
    decision: civil_code.Decision | None = None
    ballots_verified: int = 0

    @property
    def ok(self) -> bool:
        return all(ok for ok, _ in self.lines)

    def check(self, ok: bool, text: str) -> bool:
        self.lines.append((ok, text))
        return ok


def valid_endorsers(manifest: Manifest) -> list[int]:
    """The distinct trustees whose endorsement of the manifest's credential list holds."""
    digest = manifest.credentials_digest()
    good: set[int] = set()
    for endorsement in manifest.endorsements:
        try:
            endorsement.verify(manifest.dealings, manifest.election, digest)
        except ProofError:
            continue
        good.add(endorsement.index)
    return sorted(good)


def check_endorsements(manifest: Manifest, report: VerificationReport) -> None:
    """The trustees' endorsements of the credential list, if the manifest requires any;
    otherwise a line saying that the platform alone vouches for the list."""
    required = manifest.endorsements_required
    if required <= 0:
        report.check(
            True,
            "凭证名单未经计票监督人背书，仅由平台担保 / the credential list is not endorsed "
            "by trustees: the platform alone vouches for it",
        )
        return
    digest = manifest.credentials_digest()
    seen: set[int] = set()
    good: set[int] = set()
    for endorsement in manifest.endorsements:
        index = endorsement.index
        if index in seen:
            report.check(False, f"trustee {index}: endorses the credential list more than once")
            continue
        seen.add(index)
        try:
            endorsement.verify(manifest.dealings, manifest.election, digest)
        except ProofError as exc:
            report.check(
                False,
                f"trustee {index}: endorsement of the credential list "
                f"(digest {digest.hex()[:16]}…) does not hold: {exc}",
            )
            continue
        good.add(index)
        report.check(
            True, f"trustee {index}: endorses the credential list (digest {digest.hex()[:16]}…)"
        )
    report.check(
        len(good) >= required,
        f"凭证名单 / credential list: endorsed by {len(good)} trustee(s), {required} required",
    )


def verify_record(
    manifest: Manifest,
    casts: Sequence[Cast],
    result: Result | None,
    *,
    trackers: Sequence[bytes] | None = None,
    claimed_decision: civil_code.Decision | None = None,
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> VerificationReport:
    """Re-verify an election from its public record alone.

    ``casts`` are every ballot on the ledger in ledger order; each unit's last one counts.
    Every counted ballot must carry a valid signature by its unit's published credential.
    """
    report = VerificationReport()
    for dealing in manifest.dealings:
        try:
            dealing.verify(ceremony_context(manifest.election))
            report.check(True, f"trustee {dealing.index}: key commitment proven")
        except ProofError as exc:
            report.check(False, f"trustee {dealing.index}: {exc}")
    refs = {u.ref for u in manifest.units}
    holders = [c.unit_ref for c in manifest.credentials]
    report.check(
        len(holders) == len(set(holders)) and set(holders) <= refs,
        f"credential list: {len(manifest.credentials)} of {len(manifest.units)} units hold a "
        "voting credential, one each, fixed before the vote opened",
    )
    check_endorsements(manifest, report)
    seen_trackers: set[bytes] = set()
    for i, cast in enumerate(casts):
        unit = cast.unit_ref.hex()
        if cast.unit_ref not in refs:
            report.check(False, f"ballot {i}: unit {unit} is not on the roll")
        tracker = cast.tracker
        if trackers is not None and trackers[i] != tracker:
            report.check(
                False, f"ballot {i} of unit {unit}: its tracker is not the SM3 of the ciphertext"
            )
        if tracker in seen_trackers:
            report.check(False, f"ballot {i} of unit {unit}: replays an earlier ballot")
        seen_trackers.add(tracker)
    if not report.ok:
        return report
    counted_index = last_ballots(casts)
    counted = [casts[i] for i in counted_index]
    report.check(
        True,
        f"{len(casts)} ballots on the ledger; each unit's last counts: {len(counted)} counted, "
        f"{len(casts) - len(counted)} superseded by a later ballot of the same unit",
    )
    failures, tally = verify_ballots(manifest, counted, workers=workers, progress=progress)
    report.ballots_verified = len(counted) - len(failures)
    for index, reason in sorted(failures.items()):
        cast = counted[index]
        report.check(
            False,
            f"ballot {counted_index[index]} of unit {cast.unit_ref.hex()} "
            f"(tracker {cast.tracker.hex()[:16]}…): {reason}",
        )
    report.check(
        not failures,
        f"{report.ballots_verified} of {len(counted)} counted ballots: signed by the unit's "
        "credential, proofs hold",
    )
    if result is None:
        report.check(True, "no tally published yet")
        return report
    report.check(result.cast_count == len(counted), f"tally covers {result.cast_count} ballots")
    eligible_area, eligible_heads = manifest.eligible()
    for k, ct in sorted(tally.items()):
        claimed = result.counts.get(k)
        if claimed is None:
            report.check(False, f"tally {k[0]}:{k[1]}: no count published")
            continue
        if ct is None:
            report.check(claimed == 0, f"tally {k[0]}:{k[1]}: no ballots, count {claimed}")
            continue
        try:
            good = _checked_shares(manifest, k, ct, result.shares.get(k, []))
            point = combine(ct, good, manifest.threshold)
        except ProofError as exc:
            report.check(False, f"tally {k[0]}:{k[1]}: {exc}")
            continue
        expected = Point.generator_multiple(claimed) if claimed else None
        ok = point.is_infinity if expected is None else point.encode() == expected.encode()
        bound = eligible_area if k[1] == "area" else eligible_heads
        report.check(
            ok and 0 <= claimed <= bound,
            f"{OPTIONS[k[0]][1]} {OPTIONS[k[0]][2]} by {k[1]}: {claimed} "
            + ("decrypts correctly" if ok else "does NOT match the decryption"),
        )
    report.counts = dict(result.counts)
    decision = result.decision(manifest)
    report.decision = decision
    totals = result.totals(manifest)
    report.check(
        True,
        f"turnout area {totals.participating_area}/{totals.eligible_area}, "
        f"heads {totals.participating_heads}/{totals.eligible_heads}; "
        f"quorum {'met' if decision.quorum_met else 'NOT met'}; "
        f"{'approved' if decision.approved else 'not approved'} ({decision.rule})",
    )
    if claimed_decision is not None:
        report.check(
            claimed_decision.approved == decision.approved,
            "the published decision agrees with Article 278 applied to the counts",
        )
    return report
