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
    from wuye.crypto import CryptoError
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
    except CryptoError as exc:  # e.g. a credential list that does not match the manifest
        raise click.ClickException(
            f"验证失败 / VERIFICATION FAILED: the published record is inconsistent: {exc}"
        ) from exc
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


@votes.group("trustee")
def trustee() -> None:
    """计票监督人（在自己的设备上）/ Trustee steps, run on the trustee's own device.

    \b
    1. wuye votes trustee init    --api URL --election ID --index I --key-file F
    2. wuye votes trustee deal    --key-file F   (once every trustee ran init)
    3. wuye votes trustee confirm --key-file F   (once every trustee dealt)
    3a. wuye votes trustee endorse --key-file F [--letters CSV]
                                 (if the election requires it, before it opens)
    4. wuye votes trustee decrypt --key-file F   (after the vote is closed)

    The key file stays on this device, SM4-encrypted under your passphrase; the
    platform only ever receives public data, encrypted shares and proofs.
    """


_token = click.option(
    "--token",
    envvar="WUYE_TOKEN",
    required=True,
    help="Access token with votes:manage (or set WUYE_TOKEN).",
)
_key_file = click.option(
    "--key-file",
    "key_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="This trustee's key file.",
)
_passphrase = click.option(
    "--passphrase",
    envvar="WUYE_TRUSTEE_PASSPHRASE",
    prompt="口令 / Passphrase",
    hide_input=True,
    help="The key file's passphrase (prompted; or WUYE_TRUSTEE_PASSPHRASE).",
)


def _trustee_step(action):  # noqa: ANN001, ANN202 - a decorator for the steps below
    from functools import wraps

    @wraps(action)
    def run(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        from wuye.ledger.votes.trustee_device import TrusteeError

        try:
            return action(*args, **kwargs)
        except TrusteeError as exc:
            raise click.ClickException(str(exc)) from exc

    return run


@trustee.command("init")
@click.option("--api", envvar="WUYE_API", required=True, help="The platform's base URL.")
@click.option("--election", required=True, help="Election id.")
@click.option("--index", type=click.IntRange(1, 15), required=True, help="Your trustee number.")
@_key_file
@_token
@click.option(
    "--passphrase",
    envvar="WUYE_TRUSTEE_PASSPHRASE",
    prompt="新口令 / New passphrase",
    hide_input=True,
    confirmation_prompt=True,
    help="Passphrase that encrypts the key file (or WUYE_TRUSTEE_PASSPHRASE).",
)
@_trustee_step
def trustee_init(
    api: str, election: str, index: int, key_file: Path, token: str, passphrase: str
) -> None:
    """Make this trustee's transport key and register its public half."""
    from wuye.ledger.votes import trustee_device as device

    if key_file.exists():
        raise click.ClickException(f"{key_file} exists; refusing to overwrite a trustee key")
    key, fp = device.init(device.Platform(api, token), api=api, election=election, index=index)
    device.save(key_file, key, passphrase)
    click.echo(f"传输公钥指纹 / transport key fingerprint of trustee {index}: {fp}")
    click.echo("请与其他监督人核对指纹 / read it out to the other trustees")


@trustee.command("deal")
@_key_file
@_token
@_passphrase
@click.option(
    "--expect",
    "pins",
    multiple=True,
    help="INDEX=FINGERPRINT of another trustee's transport key, as they read it to you.",
)
@_trustee_step
def trustee_deal(key_file: Path, token: str, passphrase: str, pins: tuple[str, ...]) -> None:
    """Publish this trustee's dealing; send each share encrypted to its trustee."""
    from wuye.ledger.votes import trustee_device as device

    expected = {}
    for pin in pins:
        index, _, fp = pin.partition("=")
        if not index.isdigit() or not fp:
            raise click.BadParameter(f"{pin}: use INDEX=FINGERPRINT", param_hint="--expect")
        expected[int(index)] = fp
    key = device.load(key_file, passphrase)
    fingerprints = device.deal_step(device.Platform(key.api, token), key, pins=expected)
    device.save(key_file, key, passphrase)
    for index, fp in sorted(fingerprints.items(), key=lambda item: int(item[0])):
        click.echo(f"  trustee {index}: transport key {fp}")
    click.echo(f"已提交承诺与加密份额 / trustee {key.index} dealt")


@trustee.command("confirm")
@_key_file
@_token
@_passphrase
@_trustee_step
def trustee_confirm(key_file: Path, token: str, passphrase: str) -> None:
    """Check the shares sent to this trustee, keep the key share, prove holding it."""
    from wuye.ledger.votes import trustee_device as device

    key = device.load(key_file, passphrase)
    public_key = device.confirm_step(device.Platform(key.api, token), key)
    device.save(key_file, key, passphrase)
    click.echo(f"份额已验证 / shares verified; election key {public_key[:18]}…")


@trustee.command("endorse")
@_key_file
@_token
@_passphrase
@click.option(
    "--letters",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The credential authority's letters (CSV from `credentials issue`): every listed "
    "credential must be one of theirs.",
)
@click.option(
    "--allow-device-credentials",
    is_flag=True,
    help="Accept listed credentials not in the letters (made on owners' own devices).",
)
@_trustee_step
def trustee_endorse(
    key_file: Path,
    token: str,
    passphrase: str,
    letters: Path | None,
    allow_device_credentials: bool,
) -> None:
    """Endorse the election's current credential list (before the vote opens)."""
    from wuye.ledger.votes import trustee_device as device

    key = device.load(key_file, passphrase)
    done = device.endorse_step(
        device.Platform(key.api, token),
        key,
        letters,
        allow_device_credentials=allow_device_credentials,
    )
    own = (
        ""
        if done.device_made is None
        else f", {done.device_made} made on owners' devices (not in the letters)"
    )
    click.echo(
        f"已为凭证名单背书 / trustee {key.index} endorsed the credential list: "
        f"{done.credentials} credentials{own}, digest {done.digest[:16]}…"
    )


@trustee.command("decrypt")
@_key_file
@_token
@_passphrase
@_trustee_step
def trustee_decrypt(key_file: Path, token: str, passphrase: str) -> None:
    """Compute and submit this trustee's decryption shares of the closed tally."""
    from wuye.ledger.votes import trustee_device as device

    key = device.load(key_file, passphrase)
    count = device.decrypt_step(device.Platform(key.api, token), key)
    click.echo(f"已提交 {count} 个解密份额 / {count} decryption shares submitted, with proofs")


@votes.group("credentials")
def credentials_group() -> None:
    """投票凭证机构 / The credential authority's steps (e.g. the neighbourhood committee).

    \b
    1. before the vote opens:  wuye votes credentials issue --api URL --election ID
           --authority NAME --letters letters.csv
       makes an SM2 credential for every unit that has none yet, writes the private
       credentials to the letters file (print and hand them to the owners; keep the
       file offline) and submits only the public keys.
    2. once the vote is open:  wuye votes credentials check --rpc URL --election REF
           --letters letters.csv
       checks that the list on the ledger holds exactly the keys the letters carry.
    """


@credentials_group.command("issue")
@click.option("--api", envvar="WUYE_API", required=True, help="The platform's base URL.")
@click.option("--election", required=True, help="Election id.")
@click.option("--authority", required=True, help="Who issues, e.g. 某某社区居委会.")
@click.option(
    "--letters",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV file to write the letters (private credentials) to.",
)
@_token
def credentials_issue(api: str, election: str, authority: str, letters: Path, token: str) -> None:
    """Issue credentials for the units that hold none; submit only the public list."""
    import os

    from wuye.ledger.votes.credentials import issue_letters
    from wuye.ledger.votes.trustee_device import Platform, TrusteeError

    if letters.exists():
        raise click.ClickException(f"{letters} exists; refusing to overwrite issued letters")
    platform = Platform(api, token)
    try:
        listed = platform.get(f"/api/v1/elections/{election}/credentials")
        missing = {
            row["unit_id"]: {"unit_ref": row["unit_ref"], "label": row["label"]}
            for row in listed
            if not row["public_key"]
        }
        if not missing:
            click.echo("每户都已有投票凭证 / every unit already holds a credential")
            return
        text, public = issue_letters(missing, election=election)
        fd = os.open(letters, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        platform.send(
            "POST",
            f"/api/v1/elections/{election}/credentials",
            {"authority": authority, "credentials": public},
        )
    except TrusteeError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"已为 {len(public)} 户签发投票凭证 / issued {len(public)} credentials; "
        f"letters in {letters} (private: print, hand out, keep offline)"
    )


@credentials_group.command("check")
@click.option("--rpc", "rpc_url", required=True, help="JSON-RPC URL of any ledger node.")
@click.option("--election", required=True, help="0x<ElectionRecord address>/<ballot id>")
@click.option(
    "--letters",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The letters file written by `issue`.",
)
def credentials_check(rpc_url: str, election: str, letters: Path) -> None:
    """Check that the ledger's credential list holds exactly the keys of the letters."""
    import csv

    from wuye.ledger.votes.chain import ElectionRef, connect, fetch_record

    try:
        record = fetch_record(connect(rpc_url), ElectionRef.parse(election))
    except (LookupError, ValueError) as exc:
        raise click.ClickException(f"找不到表决 / election not found: {exc}") from exc
    listed = {c.unit_ref.hex(): c.public_key.hex() for c in record.manifest.credentials}
    with letters.open(encoding="utf-8") as rows:
        issued = {r["unit_ref"]: (r["unit_id"], r["public_key"]) for r in csv.DictReader(rows)}
    bad = [
        unit_id
        for ref, (unit_id, key) in sorted(issued.items())
        if listed.get(ref, "").lower() != key.lower()
    ]
    for unit_id in bad:
        click.echo(f"  ✗ unit {unit_id}: the ledger lists another key, or none", err=True)
    others = len(set(listed) - set(issued))
    click.echo(
        f"{len(issued) - len(bad)} of {len(issued)} letters' keys are on the ledger's list; "
        f"{others} other units hold credentials made on their owners' devices"
    )
    if bad:
        sys.exit(1)


@click.group()
def receipt() -> None:
    """投票回执 / Ballot receipts."""


@receipt.command("verify")
@click.argument("receipt_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--genesis",
    "genesis_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The ledger's genesis.json: the seals must be its validators' (or proven successors').",
)
@click.option("--rpc", "rpc_url", default=None, help="Also check online against this node.")
def verify_receipt(receipt_file: Path, genesis_path: Path | None, rpc_url: str | None) -> None:
    """Check a receipt: seals against the genesis validators, Merkle proofs, and with
    --rpc that the ballot was counted."""
    from wuye.ledger.genesis import Genesis, GenesisError
    from wuye.ledger.votes.receipts import ReceiptError, verify_offline, verify_online

    if genesis_path is None and rpc_url is None:
        raise click.UsageError(
            "pass --genesis PATH (the ledger's genesis.json) to check the seals offline, "
            "or --rpc URL to check against a node / 需要 --genesis 或 --rpc"
        )
    try:
        data = json.loads(receipt_file.read_text())
    except ValueError as exc:
        raise click.ClickException(f"回执不是 JSON / receipt is not JSON: {exc}") from exc
    try:
        genesis = Genesis.load(genesis_path) if genesis_path else None
    except GenesisError as exc:
        raise click.ClickException(f"创世文件无效 / bad genesis file: {exc}") from exc
    try:
        if rpc_url:
            from wuye.ledger.votes.chain import connect

            checked = verify_online(data, connect(rpc_url), genesis=genesis)
        else:
            checked = verify_offline(data, genesis=genesis)
    except ReceiptError as exc:
        raise click.ClickException(f"回执验证失败 / receipt check failed: {exc}") from exc
    except OSError as exc:
        raise click.ClickException(f"无法连接账本 / cannot reach {rpc_url}: {exc}") from exc
    for text in checked:
        click.echo(f"  ✓ {text}")
    click.echo("回执有效 / receipt valid" + ("" if rpc_url else " (offline checks only)"))
