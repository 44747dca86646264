# pragma version ~=0.4.3
"""
@title CreditRegistry
@notice Credit rating events (信用评价) for property firms and their staff,
        written only by accounts holding ROLE_RATER in Permissions. Each event
        adjusts the subject's running score and is kept as a log entry.
"""

interface Permissions:
    def has_role(account: address, role_bits: uint256) -> bool: view

ROLE_RATER: constant(uint256) = 4
SUBJECT_FIRM: constant(uint8) = 1
SUBJECT_STAFF: constant(uint8) = 2
MAX_DELTA: constant(int256) = 100

permissions: public(Permissions)
scores: public(HashMap[bytes32, int256])
subject_kind: public(HashMap[bytes32, uint8])
event_count: public(HashMap[bytes32, uint256])
total_events: public(uint256)

event Rated:
    subject: indexed(bytes32)
    kind: uint8
    rater: indexed(address)
    delta: int256
    score: int256
    evidence: bytes32
    event_id: indexed(uint256)


@deploy
def __init__(permissions: address):
    self.permissions = Permissions(permissions)


@external
def rate(subject: bytes32, kind: uint8, delta: int256, evidence: bytes32) -> uint256:
    assert staticcall self.permissions.has_role(msg.sender, ROLE_RATER), "not a rater"
    assert kind == SUBJECT_FIRM or kind == SUBJECT_STAFF, "unknown subject kind"
    assert delta >= -MAX_DELTA and delta <= MAX_DELTA, "delta out of range"
    known: uint8 = self.subject_kind[subject]
    assert known == 0 or known == kind, "subject kind mismatch"
    self.subject_kind[subject] = kind
    self.scores[subject] += delta
    self.event_count[subject] += 1
    self.total_events += 1
    log Rated(subject=subject, kind=kind, rater=msg.sender, delta=delta, score=self.scores[subject], evidence=evidence, event_id=self.total_events)
    return self.total_events
