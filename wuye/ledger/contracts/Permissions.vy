# pragma version ~=0.4.3
"""
@title Permissions
@notice Accounts of the wuye ledger and their roles. Only accounts holding
        ROLE_SENDER may submit transactions (nodes refuse the rest at
        eth_sendRawTransaction); the list changes only by governance
        transactions of ROLE_ADMIN holders.
"""

ROLE_SENDER: constant(uint256) = 1
ROLE_ADMIN: constant(uint256) = 2
ROLE_RATER: constant(uint256) = 4
ROLE_FUND_MANAGER: constant(uint256) = 8
ROLE_BALLOT_OFFICER: constant(uint256) = 16
ROLE_REGULATOR: constant(uint256) = 32

roles: public(HashMap[address, uint256])
admin_count: public(uint256)

event RolesChanged:
    account: indexed(address)
    roles: uint256
    changed_by: indexed(address)


@deploy
def __init__(admins: DynArray[address, 64], senders: DynArray[address, 256]):
    for account: address in admins:
        if self.roles[account] & ROLE_ADMIN == 0:
            self.admin_count += 1
        self.roles[account] = max_value(uint256) >> 192
        log RolesChanged(account=account, roles=self.roles[account], changed_by=msg.sender)
    for account: address in senders:
        self.roles[account] = self.roles[account] | ROLE_SENDER
        log RolesChanged(account=account, roles=self.roles[account], changed_by=msg.sender)


@internal
def _set(account: address, new_roles: uint256):
    old: uint256 = self.roles[account]
    if old & ROLE_ADMIN != 0 and new_roles & ROLE_ADMIN == 0:
        assert self.admin_count > 1, "last admin"
        self.admin_count -= 1
    elif old & ROLE_ADMIN == 0 and new_roles & ROLE_ADMIN != 0:
        self.admin_count += 1
    self.roles[account] = new_roles
    log RolesChanged(account=account, roles=new_roles, changed_by=msg.sender)


@external
def grant(account: address, role_bits: uint256):
    assert self.roles[msg.sender] & ROLE_ADMIN != 0, "not an admin"
    self._set(account, self.roles[account] | role_bits)


@external
def revoke(account: address, role_bits: uint256):
    assert self.roles[msg.sender] & ROLE_ADMIN != 0, "not an admin"
    self._set(account, self.roles[account] & ~role_bits)


@view
@external
def has_role(account: address, role_bits: uint256) -> bool:
    return self.roles[account] & role_bits == role_bits


@view
@external
def is_allowed(account: address) -> bool:
    return self.roles[account] & ROLE_SENDER != 0
