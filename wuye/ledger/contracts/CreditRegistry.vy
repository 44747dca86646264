# pragma version ~=0.4.3
"""
@title CreditRegistry
@notice Credit ratings (信用评价) of property firms and their staff.
        Monthly computed scores are published in batches by ROLE_RATER
        accounts, each with the SM3 digest of the subject's canonical inputs
        so anyone can recompute it; a published score never changes.
        Regulators (ROLE_REGULATOR) add separate signed adjustments with the
        SM3 digest of their reason; effective = computed + adjustments.
        `rate` keeps the older running-score events of ROLE_RATER accounts.
@dev    period is YYYYMM as an integer (202610 = October 2026); subject is
        SM3("wuye/credit/<firm|staff>/<id>"); kind 1 = firm, 2 = staff.
"""

interface Permissions:
    def has_role(account: address, role_bits: uint256) -> bool: view

ROLE_RATER: constant(uint256) = 4
ROLE_REGULATOR: constant(uint256) = 32
SUBJECT_FIRM: constant(uint8) = 1
SUBJECT_STAFF: constant(uint8) = 2
MAX_DELTA: constant(int256) = 100
MAX_BATCH: constant(uint256) = 128
MAX_SCORE: constant(uint256) = 1000
MAX_ADJUSTMENT: constant(int256) = 200

permissions: public(Permissions)
scores: public(HashMap[bytes32, int256])
subject_kind: public(HashMap[bytes32, uint8])
event_count: public(HashMap[bytes32, uint256])
total_events: public(uint256)

#: period -> subject -> computed score (valid only where inputs_digest is set)
computed_score: public(HashMap[uint256, HashMap[bytes32, uint256]])
#: period -> subject -> SM3 of the canonical inputs; zero means "not published"
inputs_digest: public(HashMap[uint256, HashMap[bytes32, bytes32]])
#: period -> subject -> sum of regulators' adjustments
adjustment_total: public(HashMap[uint256, HashMap[bytes32, int256]])
batch_count: public(uint256)
adjustment_count: public(uint256)

event Rated:
    subject: indexed(bytes32)
    kind: uint8
    rater: indexed(address)
    delta: int256
    score: int256
    evidence: bytes32
    event_id: indexed(uint256)

event ScoresPublished:
    period: indexed(uint256)
    publisher: indexed(address)
    batch_id: indexed(uint256)
    count: uint256
    model_version: uint256

event ScorePublished:
    period: indexed(uint256)
    subject: indexed(bytes32)
    batch_id: indexed(uint256)
    kind: uint8
    score: uint256
    inputs_digest: bytes32

event ScoreAdjusted:
    period: indexed(uint256)
    subject: indexed(bytes32)
    adjustment_id: indexed(uint256)
    kind: uint8
    delta: int256
    reason_digest: bytes32
    regulator: address


@deploy
def __init__(permissions: address):
    self.permissions = Permissions(permissions)


@internal
def _check_kind(subject: bytes32, kind: uint8):
    assert kind == SUBJECT_FIRM or kind == SUBJECT_STAFF, "unknown subject kind"
    known: uint8 = self.subject_kind[subject]
    assert known == 0 or known == kind, "subject kind mismatch"
    self.subject_kind[subject] = kind


@external
def rate(subject: bytes32, kind: uint8, delta: int256, evidence: bytes32) -> uint256:
    assert staticcall self.permissions.has_role(msg.sender, ROLE_RATER), "not a rater"
    assert delta >= -MAX_DELTA and delta <= MAX_DELTA, "delta out of range"
    self._check_kind(subject, kind)
    self.scores[subject] += delta
    self.event_count[subject] += 1
    self.total_events += 1
    log Rated(subject=subject, kind=kind, rater=msg.sender, delta=delta, score=self.scores[subject], evidence=evidence, event_id=self.total_events)
    return self.total_events


@external
def publish_scores(
    period: uint256,
    model_version: uint256,
    subjects: DynArray[bytes32, MAX_BATCH],
    kinds: DynArray[uint8, MAX_BATCH],
    scores: DynArray[uint256, MAX_BATCH],
    digests: DynArray[bytes32, MAX_BATCH],
) -> uint256:
    """Publish one month's computed scores for many subjects in one transaction."""
    assert staticcall self.permissions.has_role(msg.sender, ROLE_RATER), "not a rater"
    assert period >= 190001 and period <= 999912 and period % 100 >= 1 and period % 100 <= 12, "bad period"
    n: uint256 = len(subjects)
    assert n > 0, "empty batch"
    assert len(kinds) == n and len(scores) == n and len(digests) == n, "length mismatch"
    self.batch_count += 1
    batch_id: uint256 = self.batch_count
    for i: uint256 in range(n, bound=MAX_BATCH):
        subject: bytes32 = subjects[i]
        assert scores[i] <= MAX_SCORE, "score out of range"
        assert digests[i] != empty(bytes32), "empty digest"
        assert self.inputs_digest[period][subject] == empty(bytes32), "already published"
        self._check_kind(subject, kinds[i])
        self.computed_score[period][subject] = scores[i]
        self.inputs_digest[period][subject] = digests[i]
        log ScorePublished(period=period, subject=subject, batch_id=batch_id, kind=kinds[i], score=scores[i], inputs_digest=digests[i])
    log ScoresPublished(period=period, publisher=msg.sender, batch_id=batch_id, count=n, model_version=model_version)
    return batch_id


@external
def adjust(period: uint256, subject: bytes32, delta: int256, reason_digest: bytes32) -> uint256:
    """A regulator's adjustment of a published score, with the SM3 of its reason."""
    assert staticcall self.permissions.has_role(msg.sender, ROLE_REGULATOR), "not a regulator"
    assert self.inputs_digest[period][subject] != empty(bytes32), "score not published"
    assert delta != 0 and delta >= -MAX_ADJUSTMENT and delta <= MAX_ADJUSTMENT, "delta out of range"
    assert reason_digest != empty(bytes32), "reason required"
    self.adjustment_total[period][subject] += delta
    self.adjustment_count += 1
    log ScoreAdjusted(period=period, subject=subject, adjustment_id=self.adjustment_count, kind=self.subject_kind[subject], delta=delta, reason_digest=reason_digest, regulator=msg.sender)
    return self.adjustment_count


@view
@external
def effective_score(period: uint256, subject: bytes32) -> int256:
    """Computed score plus every adjustment; reverts if nothing was published."""
    assert self.inputs_digest[period][subject] != empty(bytes32), "score not published"
    return convert(self.computed_score[period][subject], int256) + self.adjustment_total[period][subject]
