"""`python -m wuye.ledger` runs the `ledger` command group on its own."""

from wuye.ledger.cli import ledger

ledger(prog_name="wuye ledger")
