"""A trustee's own device: its key file, and the ceremony and decryption steps it runs
against the platform's API (``wuye votes trustee ...``).

The key file holds the trustee's SM2 transport key, its own share ``fᵢ(i)`` while
the ceremony runs, and then its key share ``xᵢ``. It is JSON whose secret part is
SM4-GCM encrypted (GB/T 32907) under a key derived from the trustee's passphrase
with scrypt (RFC 7914). Nothing secret is ever sent: the platform receives public
dealings, shares encrypted to other trustees, proofs and decryption shares.

Before the vote opens, a trustee may also endorse the election's voting credential list
(:func:`endorse_step`): it reads the list, recomputes its digest as the manifest will,
checks it against the credential authority's letters if it has them, and proves holding
its key share bound to that digest.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from wuye.crypto import SM2PrivateKey, SM2PublicKey, sm3_hash, sm4_gcm_decrypt, sm4_gcm_encrypt
from wuye.crypto.errors import CryptoError
from wuye.ledger.votes.ceremony import (
    confirm_context,
    endorsement_context,
    fingerprint,
    share_message,
)
from wuye.ledger.votes.credentials import Credential, check_public_key, encode_credentials
from wuye.ledger.votes.elgamal import Ciphertext
from wuye.ledger.votes.group import Point
from wuye.ledger.votes.tally import ceremony_context, share_tally
from wuye.ledger.votes.trustees import (
    Dealing,
    TrusteeKey,
    deal,
    election_key,
    verification_key,
)
from wuye.ledger.votes.zkp import ProofError, SchnorrProof

FILE_KIND = "wuye-trustee-key"
#: scrypt cost (RFC 7914): 2^15 x 8 x 128 B = 32 MiB, about 0.1 s per unlock.
SCRYPT_N = 2**15


class TrusteeError(Exception):
    """A step cannot be taken; the message says why (one line for the CLI)."""


@dataclass
class KeyFile:
    """The trustee's secrets, decrypted in memory only."""

    api: str
    election: str
    index: int
    transport_key: str  # SM2 private key, hex
    own_share: str | None = None  # fᵢ(i), hex, between dealing and confirming
    key_share: str | None = None  # xᵢ, hex, after confirming
    public_key: str | None = None  # the election key the dealings give, hex
    extra: dict[str, Any] = field(default_factory=dict)

    def secrets_json(self) -> bytes:
        return json.dumps(
            {
                "transport_key": self.transport_key,
                "own_share": self.own_share,
                "key_share": self.key_share,
            }
        ).encode()


def _derive(passphrase: str, salt: bytes, n: int) -> bytes:
    return hashlib.scrypt(passphrase.encode(), salt=salt, n=n, r=8, p=1, maxmem=64 << 20, dklen=16)


def save(path: Path, key: KeyFile, passphrase: str, *, scrypt_n: int = SCRYPT_N) -> None:
    """Write the key file (mode 0600), the secrets SM4-GCM sealed under the passphrase."""
    if len(passphrase) < 8:
        raise TrusteeError("the passphrase needs at least 8 characters")
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    header = {
        "kind": FILE_KIND,
        "version": 1,
        "api": key.api,
        "election": key.election,
        "index": key.index,
        "public_key": key.public_key,
        "kdf": {"name": "scrypt", "salt": salt.hex(), "n": scrypt_n, "r": 8, "p": 1},
        "cipher": "SM4-GCM",
        "nonce": nonce.hex(),
    }
    aad = json.dumps(header, sort_keys=True).encode()
    sealed = sm4_gcm_encrypt(_derive(passphrase, salt, scrypt_n), nonce, key.secrets_json(), aad)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(header | {"sealed": sealed.hex()}, out, indent=1)
    os.replace(tmp, path)


def load(path: Path, passphrase: str) -> KeyFile:
    try:
        data = json.loads(Path(path).read_text())
        if data.get("kind") != FILE_KIND:
            raise ValueError("not a wuye trustee key file")
        header = {k: v for k, v in data.items() if k != "sealed"}
        kdf = data["kdf"]
        key = _derive(passphrase, bytes.fromhex(kdf["salt"]), int(kdf["n"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TrusteeError(f"cannot read key file {path}: {exc}") from exc
    aad = json.dumps(header, sort_keys=True).encode()
    try:
        plain = sm4_gcm_decrypt(
            key, bytes.fromhex(data["nonce"]), bytes.fromhex(data["sealed"]), aad
        )
    except (CryptoError, ValueError) as exc:
        raise TrusteeError("wrong passphrase, or the key file was altered") from exc
    inner = json.loads(plain)
    return KeyFile(
        api=data["api"],
        election=data["election"],
        index=int(data["index"]),
        transport_key=inner["transport_key"],
        own_share=inner.get("own_share"),
        key_share=inner.get("key_share"),
        public_key=data.get("public_key"),
    )


class Platform:
    """The platform's votes API, as one trustee calls it."""

    def __init__(self, api: str, token: str, *, client: httpx.Client | None = None) -> None:
        self.client = client or httpx.Client(
            base_url=api.rstrip("/"), headers={"Authorization": f"Bearer {token}"}, timeout=60
        )

    def _answer(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            try:
                body = response.json()
                detail = body.get("detail") or body.get("title")
            except ValueError:
                detail = response.text[:200]
            raise TrusteeError(f"platform refused ({response.status_code}): {detail}")
        return response.json()

    def get(self, path: str) -> Any:
        try:
            return self._answer(self.client.get(path))
        except httpx.HTTPError as exc:
            raise TrusteeError(f"cannot reach the platform: {exc}") from exc

    def send(self, method: str, path: str, body: dict[str, Any]) -> Any:
        try:
            return self._answer(self.client.request(method, path, json=body))
        except httpx.HTTPError as exc:
            raise TrusteeError(f"cannot reach the platform: {exc}") from exc


def _base(election: str) -> str:
    return f"/api/v1/elections/{election}"


def init(platform: Platform, *, api: str, election: str, index: int) -> tuple[KeyFile, str]:
    """Step 1: make a transport key and register its public half. Returns the key file
    to save and the key's fingerprint (to read out to the other trustees)."""
    transport = SM2PrivateKey.generate()
    public = transport.public_key.to_hex().lower()
    platform.send(
        "PUT", f"{_base(election)}/ceremony/{index}/transport-key", {"transport_key": public}
    )
    return KeyFile(api, election, index, transport.to_hex()), fingerprint(public)


def _check_pins(view: dict[str, Any], pins: dict[int, str]) -> None:
    for index, expected in pins.items():
        got = view["fingerprints"].get(str(index))
        if got != expected.lower():
            raise TrusteeError(
                f"trustee {index}'s transport key fingerprint is {got}, not {expected}: "
                "do not deal until the trustees agree on their keys"
            )


def deal_step(platform: Platform, key: KeyFile, *, pins: dict[int, str] | None = None) -> dict:
    """Step 2: deal, and send each other trustee its share encrypted to its transport key."""
    view = platform.get(f"{_base(key.election)}/ceremony")
    n, k = int(view["trustees"]), int(view["threshold"])
    if len(view["transport_keys"]) != n:
        missing = [i for i in range(1, n + 1) if str(i) not in view["transport_keys"]]
        raise TrusteeError(f"waiting for the transport keys of trustees {missing}")
    _check_pins(view, pins or {})
    mine = SM2PrivateKey.from_hex(key.transport_key).public_key.to_hex().lower()
    if view["transport_keys"][str(key.index)] != mine:
        raise TrusteeError("the platform lists another transport key for this trustee")
    _, dealing, shares = deal(key.index, k, n, ceremony_context(key.election))
    encrypted = {
        str(j): SM2PublicKey.from_hex(view["transport_keys"][str(j)])
        .encrypt(share_message(key.election, key.index, j, share))
        .hex()
        for j, share in shares.items()
        if j != key.index
    }
    platform.send(
        "POST",
        f"{_base(key.election)}/ceremony/{key.index}/dealing",
        {"dealing": dealing.to_json(), "encrypted_shares": encrypted},
    )
    key.own_share = format(shares[key.index], "x")
    return view["fingerprints"]


def confirm_step(platform: Platform, key: KeyFile) -> str:
    """Step 3: decrypt the shares sent to this trustee, check each against its dealer's
    commitments, keep ``xᵢ`` and prove holding it. Returns the election key (hex)."""
    view = platform.get(f"{_base(key.election)}/ceremony")
    n = int(view["trustees"])
    if len(view["dealings"]) != n:
        missing = [i for i in range(1, n + 1) if str(i) not in view["dealings"]]
        raise TrusteeError(f"waiting for the dealings of trustees {missing}")
    if key.own_share is None:
        raise TrusteeError("this key file has not dealt yet (run `trustee deal` first)")
    transport = SM2PrivateKey.from_hex(key.transport_key)
    context = ceremony_context(key.election)
    dealings = [Dealing.from_json(view["dealings"][str(i)]) for i in range(1, n + 1)]
    total = 0
    for dealing in dealings:
        try:
            dealing.verify(context)
        except ProofError as exc:
            raise TrusteeError(f"trustee {dealing.index}'s dealing does not verify: {exc}") from exc
        if dealing.index == key.index:
            share = int(key.own_share, 16)
        else:
            share = _open_share(transport, view, key, dealing.index)
        if not dealing.share_is_valid(key.index, share):
            raise TrusteeError(
                f"trustee {dealing.index} sent a share that fails Feldman's check: "
                "do not confirm; tell the other trustees"
            )
        total += share
    from wuye.ledger.votes.group import N

    x = total % N
    x_point = verification_key(dealings, key.index)
    if Point.generator_multiple(x).encode() != x_point.encode():
        raise TrusteeError("the key share does not match the public verification key")
    proof = SchnorrProof.prove(x, x_point, confirm_context(key.election, key.index))
    platform.send(
        "POST",
        f"{_base(key.election)}/ceremony/{key.index}/confirm",
        {"proof": proof.to_json()},
    )
    key.key_share, key.own_share = format(x, "x"), None
    key.public_key = election_key(dealings).encode().hex()
    return key.public_key


def _open_share(transport: SM2PrivateKey, view: dict[str, Any], key: KeyFile, dealer: int) -> int:
    ciphertext = view["encrypted_shares"].get(f"{dealer}->{key.index}")
    if ciphertext is None:
        raise TrusteeError(f"trustee {dealer} sent no share to this trustee")
    try:
        message = json.loads(transport.decrypt(bytes.fromhex(ciphertext)))
        if (message["election"], message["from"], message["to"]) != (
            key.election,
            dealer,
            key.index,
        ):
            raise ValueError("the share is addressed to another place")
        return int(message["share"], 16)
    except (CryptoError, ValueError, KeyError, TypeError) as exc:
        raise TrusteeError(f"trustee {dealer}'s share cannot be opened: {exc}") from exc


def decrypt_step(platform: Platform, key: KeyFile) -> int:
    """After the vote closes: this trustee's decryption shares of the tally, with proofs.
    Returns how many ciphertexts were shared."""
    if key.key_share is None or key.public_key is None:
        raise TrusteeError("this key file holds no key share yet (run `trustee confirm`)")
    base = _base(key.election)
    manifest = platform.get(f"{base}/manifest")
    if manifest.get("public_key") != key.public_key:
        raise TrusteeError("the platform's election key is not the one the ceremony made")
    tally_json = platform.get(f"{base}/tally")
    if not tally_json:
        raise TrusteeError("the election has no tally yet (is it closed?)")
    tally = {}
    for name, value in tally_json.items():
        j, w = name.split(":")
        tally[(int(j), w)] = Ciphertext.from_json(value) if value else None

    @dataclass
    class _Holder:
        fingerprint: bytes

    trustee = TrusteeKey(key.index, 0, 0, share=int(key.key_share, 16))
    holder = _Holder(bytes.fromhex(manifest["fingerprint"]))
    shares = share_tally(holder, trustee, tally)  # type: ignore[arg-type]
    platform.send(
        "POST",
        f"{base}/decryptions",
        {"index": key.index, "shares": {f"{j}:{w}": s.to_json() for (j, w), s in shares.items()}},
    )
    return len(shares)


@dataclass
class Endorsed:
    """What :func:`endorse_step` endorsed."""

    digest: str  # SM3 of the credential list, hex
    credentials: int  # entries on the list
    device_made: int | None  # entries not on the letters (None: no letters given)


def _letters(path: Path, election: str) -> set[tuple[str, str]]:
    """(unit ref, public key) of every letter in the CSV ``wuye votes credentials issue``
    wrote."""
    try:
        with Path(path).open(encoding="utf-8", newline="") as rows:
            letters = list(csv.DictReader(rows))
        issued = set()
        for row in letters:
            if row["election"] != election:
                raise TrusteeError(
                    f"{path}: the letters are for election {row['election']}, not {election}"
                )
            issued.add((row["unit_ref"].lower(), row["public_key"].lower()))
    except (OSError, KeyError, UnicodeDecodeError, csv.Error) as exc:
        raise TrusteeError(f"cannot read the letters {path}: {exc}") from exc
    return issued


def endorse_step(
    platform: Platform,
    key: KeyFile,
    letters: Path | None = None,
    *,
    allow_device_credentials: bool = False,
) -> Endorsed:
    """Before the vote opens: endorse the election's current credential list.

    Reads the list from the platform, orders it by the roll as the manifest will, and
    computes its SM3 digest. With ``letters``, every listed credential must be one of the
    letters' keys, unless ``allow_device_credentials`` (owners made the others on their own
    devices; their count is reported). Then proves holding ``xᵢ`` bound to the digest."""
    if key.key_share is None or key.public_key is None:
        raise TrusteeError("this key file holds no key share yet (run `trustee confirm`)")
    base = _base(key.election)
    manifest = platform.get(f"{base}/manifest")
    if manifest.get("public_key") != key.public_key:
        raise TrusteeError("the platform's election key is not the one the ceremony made")
    refs: dict[str, str] = manifest["unit_refs"]
    listed = platform.get(f"{base}/credentials")
    entries: list[tuple[int, Credential]] = []
    order = {unit_id: i for i, unit_id in enumerate(refs)}
    seen: set[str] = set()
    try:
        for row in listed:
            if not row.get("public_key"):
                continue
            unit_id = row["unit_id"]
            if unit_id not in refs or row["unit_ref"].lower() != refs[unit_id].lower():
                raise TrusteeError(f"the list names unit {unit_id}, which is not on the roll")
            if unit_id in seen:
                raise TrusteeError(f"the list names unit {unit_id} twice")
            seen.add(unit_id)
            public_key = check_public_key(row["public_key"])
            entries.append((order[unit_id], Credential(bytes.fromhex(refs[unit_id]), public_key)))
    except (CryptoError, KeyError, TypeError, ValueError) as exc:
        raise TrusteeError(f"the platform's credential list is malformed: {exc}") from exc
    credentials = [c for _, c in sorted(entries, key=lambda e: e[0])]
    if not credentials:
        raise TrusteeError("no unit holds a voting credential yet: nothing to endorse")
    device_made = None
    if letters is not None:
        issued = _letters(letters, key.election)
        foreign = [c for c in credentials if (c.unit_ref.hex(), c.public_key.hex()) not in issued]
        device_made = len(foreign)
        if foreign and not allow_device_credentials:
            raise TrusteeError(
                f"名单中有 {len(foreign)} 个凭证不在凭证函中 / {len(foreign)} credential(s) on "
                f"the list are not in the letters (e.g. unit ref {foreign[0].unit_ref.hex()[:16]}…"
                "): not endorsed; if owners made them on their own devices, pass "
                "--allow-device-credentials"
            )
    digest = sm3_hash(encode_credentials(credentials))
    dealings = [Dealing.from_json(d) for d in manifest["header"]["trustees"]]
    x = int(key.key_share, 16)
    x_point = verification_key(dealings, key.index)
    if Point.generator_multiple(x).encode() != x_point.encode():
        raise TrusteeError("the key share does not match the public verification key")
    proof = SchnorrProof.prove(x, x_point, endorsement_context(key.election, digest))
    platform.send(
        "POST",
        f"{base}/credential-endorsements",
        {"index": key.index, "proof": proof.to_json()},
    )
    return Endorsed(digest.hex(), len(credentials), device_made)
