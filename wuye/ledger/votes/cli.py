"""``wuye votes verify`` and ``wuye receipt verify``: anyone's checks, from public data alone."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.group()
def votes() -> None:
    """业主电子投票 / Owners' electronic votes."""


@votes.command("verify")
@click.option("--rpc", "rpc_url", required=True, help="JSON-RPC URL of any ledger node.")
@click.option("--election", required=True, help="0x<ElectionRecord address>/<ballot id>")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Processes (cores).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify_election(rpc_url: str, election: str, workers: int | None, as_json: bool) -> None:
    """Re-verify an election: every ballot's proofs, the tally, decryption, Article 278."""
    from wuye.ledger.votes.chain import ElectionRef, connect
    from wuye.ledger.votes.verify import verify_on_chain

    try:
        ref = ElectionRef.parse(election)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--election") from exc
    progress = None if as_json else (lambda text: click.echo(f"… {text}", err=True))
    try:
        record, report = verify_on_chain(connect(rpc_url), ref, workers=workers, progress=progress)
    except LookupError as exc:
        raise click.ClickException(f"找不到表决 / election not found: {exc}") from exc
    except OSError as exc:
        raise click.ClickException(f"无法连接账本 / cannot reach {rpc_url}: {exc}") from exc
    if as_json:
        click.echo(
            json.dumps(
                {
                    "election": str(ref),
                    "ok": report.ok,
                    "checks": [{"ok": ok, "text": text} for ok, text in report.lines],
                    "counts": {f"{j}:{w}": n for (j, w), n in report.counts.items()},
                    "decision": report.decision.to_json() if report.decision else None,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        click.echo(f"表决 / election {ref}: {record.manifest.title} ({record.manifest.matter})")
        for ok, text in report.lines:
            click.echo(f"  {'✓' if ok else '✗'} {text}")
        click.echo("验证通过 / VERIFIED" if report.ok else "验证失败 / VERIFICATION FAILED")
    if not report.ok:
        sys.exit(1)


@votes.command("audit")
@click.argument("audit_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def audit_ballot(audit_file: Path) -> None:
    """Benaloh audit on a second device: check a spoilt ballot against its revealed secrets."""
    from wuye.ledger.votes.ballot import BallotSecrets, EncryptedBallot, audit, ballot_context
    from wuye.ledger.votes.group import decode
    from wuye.ledger.votes.zkp import ProofError

    data = json.loads(audit_file.read_text())
    try:
        key = decode(data["public_key"])
        ballot = EncryptedBallot.from_json(data["ballot"])
        context = ballot_context(
            bytes.fromhex(data["fingerprint"]), bytes.fromhex(data["unit_ref"])
        )
        ballot.verify(key, context, len(ballot.choices))
        if ballot.tracker.hex() != data["tracker"]:
            raise ProofError("the tracker is not the SM3 of this ballot")
        choice = audit(key, ballot, BallotSecrets.from_json(data["revealed"]))
    except (KeyError, ValueError) as exc:
        raise click.ClickException(f"审计失败 / audit FAILED: {exc}") from exc
    from wuye.ledger.votes.ballot import OPTIONS

    click.echo(
        f"审计通过 / audit passed: the ballot holds {OPTIONS[choice][1]} {OPTIONS[choice][2]}"
    )
    click.echo("此选票已作废，请重新加密后投出 / this ballot is spoilt; encrypt afresh to cast")


@click.group()
def receipt() -> None:
    """投票回执 / Ballot receipts."""


@receipt.command("verify")
@click.argument("receipt_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--rpc", "rpc_url", default=None, help="Also check online against this node.")
def verify_receipt(receipt_file: Path, rpc_url: str | None) -> None:
    """Check a receipt offline (seals, Merkle proofs) and, with --rpc, that it was counted."""
    from wuye.ledger.votes.receipts import ReceiptError, verify_offline, verify_online

    try:
        data = json.loads(receipt_file.read_text())
    except ValueError as exc:
        raise click.ClickException(f"回执不是 JSON / receipt is not JSON: {exc}") from exc
    try:
        if rpc_url:
            from wuye.ledger.votes.chain import connect

            checked = verify_online(data, connect(rpc_url))
        else:
            checked = verify_offline(data)
    except ReceiptError as exc:
        raise click.ClickException(f"回执验证失败 / receipt check failed: {exc}") from exc
    for text in checked:
        click.echo(f"  ✓ {text}")
    click.echo("回执有效 / receipt valid" + ("" if rpc_url else " (offline checks only)"))
