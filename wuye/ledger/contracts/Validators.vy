# pragma version ~=0.4.3
"""
@title Validators
@notice The validator set of the wuye ledger: each validator's account (its
        governance voice) and SM2 public key (x, y), which seals blocks. The
        set changes only when more than two thirds of the current validators
        vote for the same change; the epoch counter retires stale votes.
"""

MAX_VALIDATORS: constant(uint256) = 64

struct Validator:
    account: address
    sm2_x: bytes32
    sm2_y: bytes32

validators: public(DynArray[Validator, MAX_VALIDATORS])
epoch: public(uint256)
votes: public(HashMap[bytes32, uint256])
voted: public(HashMap[bytes32, HashMap[address, bool]])

event ChangeVoted:
    proposal: indexed(bytes32)
    voter: indexed(address)
    votes: uint256
    needed: uint256

event ValidatorAdded:
    account: indexed(address)
    sm2_x: bytes32
    sm2_y: bytes32
    epoch: uint256

event ValidatorRemoved:
    account: indexed(address)
    epoch: uint256


@deploy
def __init__(initial: DynArray[Validator, MAX_VALIDATORS]):
    assert len(initial) > 0, "no validators"
    for v: Validator in initial:
        self.validators.append(v)
        log ValidatorAdded(account=v.account, sm2_x=v.sm2_x, sm2_y=v.sm2_y, epoch=0)


@view
@internal
def _index(account: address) -> uint256:
    i: uint256 = 0
    for v: Validator in self.validators:
        if v.account == account:
            return i
        i += 1
    return max_value(uint256)


@internal
def _vote(proposal: bytes32) -> bool:
    assert self._index(msg.sender) != max_value(uint256), "not a validator"
    assert not self.voted[proposal][msg.sender], "already voted"
    self.voted[proposal][msg.sender] = True
    self.votes[proposal] += 1
    n: uint256 = len(self.validators)
    log ChangeVoted(proposal=proposal, voter=msg.sender, votes=self.votes[proposal], needed=n * 2 // 3 + 1)
    return self.votes[proposal] * 3 > n * 2


@external
def vote_add(account: address, sm2_x: bytes32, sm2_y: bytes32):
    assert self._index(account) == max_value(uint256), "already a validator"
    proposal: bytes32 = keccak256(abi_encode(self.epoch, True, account, sm2_x, sm2_y))
    if self._vote(proposal):
        self.validators.append(Validator(account=account, sm2_x=sm2_x, sm2_y=sm2_y))
        self.epoch += 1
        log ValidatorAdded(account=account, sm2_x=sm2_x, sm2_y=sm2_y, epoch=self.epoch)


@external
def vote_remove(account: address):
    index: uint256 = self._index(account)
    assert index != max_value(uint256), "not a validator"
    assert len(self.validators) > 1, "last validator"
    proposal: bytes32 = keccak256(abi_encode(self.epoch, False, account, empty(bytes32), empty(bytes32)))
    if self._vote(proposal):
        last: Validator = self.validators.pop()
        if index < len(self.validators):
            self.validators[index] = last
        self.epoch += 1
        log ValidatorRemoved(account=account, epoch=self.epoch)


@view
@external
def get_validators() -> DynArray[Validator, MAX_VALIDATORS]:
    return self.validators


@view
@external
def count() -> uint256:
    return len(self.validators)
