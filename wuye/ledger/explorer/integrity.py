"""Chain integrity at a click: ``wuye ledger verify`` run in a background thread.

A job runs :func:`wuye.ledger.verify.verify_chain` (the very checks of the CLI:
links, SM3 digests, SM2 seal quorums of each height's validators, and optionally
re-execution to the same state roots) against one node, and keeps its progress and
its outcome - the first bad block and why, if any - for the page to poll.
"""

from __future__ import annotations

import tempfile
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from wuye.ledger.genesis import Genesis, GenesisError

#: Jobs kept for their pages to show; the oldest finished ones are dropped first.
KEEP = 50
#: Jobs allowed to run at once (each holds a thread and, re-executing, a py-evm chain).
MAX_RUNNING = 2


class IntegrityBusy(Exception):
    """Too many checks are running already."""


@dataclass
class IntegrityJob:
    id: str
    url: str
    reexecute: bool
    state: str = "running"  # running | passed | failed | error
    checked: int = 0
    head: int = 0
    started: float = field(default_factory=time.time)
    finished: float | None = None
    bad_block: int | None = None
    reason: str = ""
    report: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def read_genesis(text: str) -> Genesis:
    """A pasted genesis file, parsed (raises GenesisError)."""
    import json

    try:
        return Genesis.from_json(json.loads(text))
    except (ValueError, TypeError, KeyError) as exc:
        raise GenesisError(f"not a genesis file: {exc}") from exc


class IntegrityJobs:
    """The integrity checks started from the explorer, by id."""

    def __init__(self) -> None:
        self._jobs: dict[str, IntegrityJob] = {}
        self._lock = threading.Lock()

    def get(self, job_id: str) -> IntegrityJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def start(
        self,
        url: str,
        *,
        genesis_path: Path | None = None,
        genesis_text: str = "",
        reexecute: bool = False,
    ) -> IntegrityJob:
        """Start checking the chain at ``url`` against a genesis file (a path, or its text)."""
        if genesis_text.strip():
            read_genesis(genesis_text)
        elif genesis_path is None or not Path(genesis_path).exists():
            raise GenesisError("no genesis file: paste the chain's genesis.json")
        with self._lock:
            if sum(j.state == "running" for j in self._jobs.values()) >= MAX_RUNNING:
                raise IntegrityBusy("two integrity checks are running; wait for one to finish")
            job = IntegrityJob(id=uuid.uuid4().hex, url=url, reexecute=reexecute)
            self._jobs[job.id] = job
            finished = [j for j in self._jobs.values() if j.state != "running"]
            for old in sorted(finished, key=lambda j: j.started)[: max(0, len(self._jobs) - KEEP)]:
                del self._jobs[old.id]
        thread = threading.Thread(
            target=self._run,
            args=(job, genesis_path, genesis_text),
            name=f"integrity-{job.id[:8]}",
            daemon=True,
        )
        thread.start()
        return job

    def _run(self, job: IntegrityJob, genesis_path: Path | None, genesis_text: str) -> None:
        from wuye.ledger.verify import VerificationFailed, verify_chain

        def progress(number: int, head: int) -> None:
            job.checked, job.head = number, head

        tmp = None
        try:
            if genesis_text.strip():
                tmp = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)  # noqa: SIM115
                tmp.write(genesis_text)
                tmp.close()
                genesis_path = Path(tmp.name)
            assert genesis_path is not None
            report = verify_chain(job.url, genesis_path, reexecute=job.reexecute, progress=progress)
        except VerificationFailed as exc:
            job.state, job.bad_block, job.reason = "failed", exc.number, exc.reason
        except (GenesisError, ConnectionError, OSError) as exc:
            job.state, job.reason = "error", str(exc)
        except Exception as exc:  # noqa: BLE001 - the page must say why a check stopped
            job.state, job.reason = "error", f"{type(exc).__name__}: {exc}"
        else:
            job.state = "passed"
            job.checked = job.head = report.blocks
            job.report = asdict(report)
        finally:
            job.finished = time.time()
            if tmp is not None:
                Path(tmp.name).unlink(missing_ok=True)
