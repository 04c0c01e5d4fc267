"""Hang-proof math answer grading on top of math-verify, run in a pool of worker subprocesses.

math-verify's own timeouts use ``signal.alarm``: they fail off the main thread and cannot stop a
computation stuck in C code (``9^{9^{9^{9}}}`` vs ``1`` runs for minutes). So grading runs in
separate worker processes (``_worker.py``) and this parent enforces the per-item wall-clock bound
from outside, by SIGKILLing a worker that overstays and starting a fresh one.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from creditzoo.verify.result import VerifyResult, VerifyStatus

__all__ = ["MathVerifier"]

_WORKER_SCRIPT = Path(__file__).with_name("_worker.py")
# Interpreter start + importing sympy takes ~0.5 s idle but can take many seconds on a loaded
# machine; it is not charged to any item.
_STARTUP_TIMEOUT_S = 30.0
# Workers dying before they are ready is an environment problem (math-verify missing, no memory),
# never a model-output one, so it is raised instead of silently grading everything 0.
_MAX_STARTUP_FAILURES = 3
# Items queued ahead in each worker's stdin: hides the round trip, while bounding how many
# innocent items must be re-sent when a worker is killed.
_CHUNK = 16
_MAX_CRASHES_PER_ITEM = 2
_READ_SIZE = 1 << 16


class _Worker:
    """One worker subprocess plus the parent-side state of its non-blocking pipes."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-u", str(_WORKER_SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.fd_in = self.proc.stdin.fileno()
        self.fd_out = self.proc.stdout.fileno()
        # Non-blocking both ways: a stuck worker stops reading its stdin, and a blocking write of
        # a long item into a full pipe would hang the parent with it.
        os.set_blocking(self.fd_in, False)
        os.set_blocking(self.fd_out, False)
        self.rbuf = bytearray()
        self.wbuf = bytearray()
        self.inflight: deque[int] = deque()  # item indices sent and not yet answered, in order
        self.ready = False
        self.watching_write = False
        # Spawn time until ready; afterwards, when the item at the head of `inflight` started.
        self.mark = time.monotonic()

    def deadline(self, timeout_s: float) -> float | None:
        if not self.ready:
            return self.mark + _STARTUP_TIMEOUT_S
        return self.mark + timeout_s if self.inflight else None

    def flush(self) -> bool:
        """Write as much of the queued input as the pipe takes; False if the worker is gone."""
        while self.wbuf:
            try:
                n = os.write(self.fd_in, self.wbuf)
            except BlockingIOError:
                return True
            except OSError:  # BrokenPipeError: the worker died
                return False
            del self.wbuf[:n]
        return True

    def read_lines(self) -> list[bytes] | None:
        """Complete lines available now; None on EOF (the worker died)."""
        try:
            data = os.read(self.fd_out, _READ_SIZE)
        except BlockingIOError:
            return []
        except OSError:
            return None
        if not data:
            return None
        self.rbuf += data
        *lines, rest = self.rbuf.split(b"\n")
        self.rbuf = bytearray(rest)
        return lines

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.kill()  # SIGKILL: a worker stuck in C code ignores anything gentler
        self.close_pipes()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)

    def close_pipes(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                pipe.close()  # type: ignore[union-attr]


class MathVerifier:
    """Grade completions against reference answers with math-verify, never hanging or raising.

    The final answer of a completion is graded: its last ``\\boxed{}``, together with the boxes
    joined to it by ``,`` / ``and`` / ``or`` / ``\\quad`` alone (``\\boxed{-2} and \\boxed{1}`` is
    the one answer -2, 1); a box followed by prose and another box is a self-correction, graded
    by the last box. Without a box, math-verify's other extractors apply. References without
    math delimiters are read as LaTeX (``2x+1``, ``\\frac12``, ``28\\%``). Percentages follow
    math-verify: ``28\\%`` equals ``28``, ``0.28`` and ``28 \\%``. Upstream quirk, not ours:
    math-verify cuts ``\\frac{1}{\\mathrm{e}}`` to ``\\frac{1}{``, so ``1-1/\\mathrm{e}`` and
    ``1+1/\\mathrm{e}`` both read as 1 and compare equal (a plain ``e`` is fine).

    Each item takes at most about ``timeout_s`` of wall-clock time whatever the input; items over
    it get status "timeout" (so a batch takes at worst about ``len(batch) * timeout_s /
    num_workers``). Workers start on the first call and are reused;
    call :meth:`close` (or use ``with``) to stop them. Safe to call from any thread; concurrent
    calls are serialized.

    Args:
        timeout_s: Per-item wall-clock limit, enforced by killing the worker.
        num_workers: Worker subprocesses grading in parallel.
        max_chars: Completions are cut to their last ``max_chars`` characters (where the final
            answer is) so pathological lengths cannot dominate the time budget.
    """

    def __init__(self, timeout_s: float = 2.0, num_workers: int = 2, max_chars: int = 100_000):
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        if num_workers < 1:
            raise ValueError(f"num_workers must be >= 1, got {num_workers}")
        if max_chars < 1:
            raise ValueError(f"max_chars must be >= 1, got {max_chars}")
        self.timeout_s = float(timeout_s)
        self.num_workers = int(num_workers)
        self.max_chars = int(max_chars)
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._closed = False
        self._startup_failures = 0

    # ------------------------------------------------------------------ public API

    def __call__(self, completions: Sequence[str], references: Sequence[str]) -> list[VerifyResult]:
        """Grade ``completions[i]`` against ``references[i]``; one result per item, in order.

        Raises only on programming errors (mismatched lengths, non-str completions, a closed
        verifier) or a broken environment (workers cannot start), never because of model output.
        """
        if len(completions) != len(references):
            raise ValueError(f"got {len(completions)} completions but {len(references)} references")
        for c in completions:
            if not isinstance(c, str):
                raise TypeError(f"completions must be str, got {type(c).__name__}")
        if not completions:
            return []
        pairs = zip(completions, references, strict=True)
        payloads = [self._encode(i, c, r) for i, (c, r) in enumerate(pairs)]
        with self._lock:
            if self._closed:
                raise RuntimeError("MathVerifier is closed")
            self._forget_inherited_workers()
            try:
                return self._run(payloads)
            except BaseException:
                # Workers may still hold items of this aborted call; start clean next time.
                self._kill_all()
                raise

    @staticmethod
    def count_statuses(results: Sequence[VerifyResult]) -> dict[str, int]:
        """Number of results per status, with all four statuses present (for logging)."""
        counts = dict.fromkeys(VerifyStatus.ALL, 0)
        for r in results:
            counts[r.status] = counts.get(r.status, 0) + 1
        return counts

    def close(self) -> None:
        """Stop the workers. Idempotent; the verifier cannot be used afterwards."""
        self._closed = True
        # Let a call in another thread finish first; bounded, since after a fork the lock may be
        # held by a thread that no longer exists.
        locked = self._lock.acquire(timeout=10.0)
        try:
            self._forget_inherited_workers()
            self._kill_all()
        finally:
            if locked:
                self._lock.release()

    def __enter__(self) -> MathVerifier:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # Not contextlib.suppress: module globals may already be None at interpreter shutdown.
        try:  # noqa: SIM105
            self.close()
        except Exception:
            pass

    # ------------------------------------------------------------------ internals

    def _encode(self, index: int, completion: str, reference: str) -> bytes:
        if len(completion) > self.max_chars:
            completion = completion[-self.max_chars :]
        # ensure_ascii (the default) escapes NUL and lone surrogates, so any str survives the trip.
        msg = {"i": index, "p": completion, "g": str(reference)}
        return json.dumps(msg).encode("ascii") + b"\n"

    def _forget_inherited_workers(self) -> None:
        # After a fork the child sees the parent's workers; killing them would break the parent.
        if os.getpid() != self._pid:
            for w in self._workers:
                w.close_pipes()
            self._workers = []
            self._pid = os.getpid()

    def _kill_all(self) -> None:
        workers, self._workers = self._workers, []
        for w in workers:
            w.kill()

    def _run(self, payloads: list[bytes]) -> list[VerifyResult]:
        batch = _Batch(self, payloads)
        try:
            return batch.run()
        finally:
            batch.close()


class _Batch:
    """Scheduling state of one ``MathVerifier.__call__``: pipelines items through the workers."""

    def __init__(self, owner: MathVerifier, payloads: list[bytes]) -> None:
        self.owner = owner
        self.workers = owner._workers  # shared list: replacements outlive this call
        self.payloads = payloads
        self.results: list[VerifyResult | None] = [None] * len(payloads)
        self.remaining = len(payloads)
        self.pending: deque[int] = deque(range(len(payloads)))
        self.crashes = [0] * len(payloads)
        self.sel = selectors.DefaultSelector()
        for w in self.workers:
            self.sel.register(w.fd_out, selectors.EVENT_READ, w)

    def run(self) -> list[VerifyResult]:
        timeout_s = self.owner.timeout_s
        while self.remaining:
            self._spawn()
            if self.pending:
                self._dispatch()
            if not self._flush_all():
                continue  # a worker died mid-write: spawn its replacement before waiting
            deadlines = [d for w in self.workers if (d := w.deadline(timeout_s)) is not None]
            wait = max(0.0, min(deadlines) - time.monotonic()) if deadlines else 0.05
            for key, mask in self.sel.select(wait):
                w = key.data
                if w not in self.workers:
                    continue  # dropped while handling an earlier event of this batch
                if mask & selectors.EVENT_READ and not self._service(w):
                    continue
                if mask & selectors.EVENT_WRITE and not w.flush():
                    self._lost(w)
            self._enforce_deadlines()
        # Replace workers killed near the end now, so they are warm by the next call.
        self._spawn()
        error = _result(VerifyStatus.ERROR, False, None)
        return [r if r is not None else error for r in self.results]

    def close(self) -> None:
        for w in self.workers:
            w.watching_write = False
        self.sel.close()

    # -- scheduling

    def _spawn(self) -> None:
        """Keep the pool at full size; replacements start while the others keep grading."""
        while len(self.workers) < self.owner.num_workers:
            w = _Worker()
            self.workers.append(w)
            self.sel.register(w.fd_out, selectors.EVENT_READ, w)

    def _dispatch(self) -> None:
        """Queue pending items into workers' input, round-robin, up to _CHUNK each.

        Ready workers are filled first: a replacement still importing sympy would sit on its
        items for a second while a live worker idles.
        """
        for w in list(self.workers):
            if not w.ready:
                self._service(w)  # its "ready" line may be waiting unread since the last call
        ready = [w for w in self.workers if w.ready]
        starting = [w for w in self.workers if not w.ready]
        for group in (ready, starting):
            progress = True
            while self.pending and progress:
                progress = False
                for w in group:
                    if self.pending and len(w.inflight) < _CHUNK:
                        if w.ready and not w.inflight:
                            w.mark = time.monotonic()  # an idle worker's clock starts now
                        index = self.pending.popleft()
                        w.inflight.append(index)
                        w.wbuf += self.payloads[index]
                        progress = True

    def _flush_all(self) -> bool:
        """Push queued input; watch for writability where the pipe is full. False if one died."""
        all_alive = True
        for w in list(self.workers):
            if not w.flush():
                self._lost(w)
                all_alive = False
                continue
            want = bool(w.wbuf)
            if want != w.watching_write:
                if want:
                    self.sel.register(w.fd_in, selectors.EVENT_WRITE, w)
                else:
                    self.sel.unregister(w.fd_in)
                w.watching_write = want
        return all_alive

    def _enforce_deadlines(self) -> None:
        timeout_s = self.owner.timeout_s
        for w in list(self.workers):
            d = w.deadline(timeout_s)
            if d is None or time.monotonic() < d:
                continue
            # Last look: the answer may have landed after select() returned.
            if not self._service(w):
                continue
            d = w.deadline(timeout_s)
            if d is None or time.monotonic() < d:
                continue
            if not w.ready:
                self._lost(w)  # startup took too long; counts as a failed start
                continue
            head = w.inflight.popleft()
            self._resolve(head, _result(VerifyStatus.TIMEOUT, False, None))
            items = list(w.inflight)
            self._drop(w)
            self._requeue(items)

    # -- bookkeeping

    def _resolve(self, index: int, result: VerifyResult) -> None:
        if self.results[index] is None:
            self.results[index] = result
            self.remaining -= 1

    def _requeue(self, indices: Sequence[int]) -> None:
        self.pending.extendleft(reversed(indices))

    def _drop(self, w: _Worker) -> None:
        for fd in (w.fd_out, w.fd_in):
            with contextlib.suppress(KeyError, ValueError):
                self.sel.unregister(fd)
        w.kill()
        self.workers.remove(w)

    def _lost(self, w: _Worker) -> None:
        """The worker died or garbled its output: re-send its items, blaming only the head."""
        was_ready, items = w.ready, list(w.inflight)
        self._drop(w)
        owner = self.owner
        if not was_ready:
            owner._startup_failures += 1
            if owner._startup_failures >= _MAX_STARTUP_FAILURES:
                raise RuntimeError(
                    f"math-verify worker failed to start {owner._startup_failures} times in a "
                    f"row ({sys.executable} {_WORKER_SCRIPT}); see its stderr"
                )
        elif items:
            head = items[0]
            self.crashes[head] += 1
            if self.crashes[head] >= _MAX_CRASHES_PER_ITEM:
                self._resolve(head, _result(VerifyStatus.ERROR, False, None))
                items = items[1:]
        self._requeue(items)

    def _service(self, w: _Worker) -> bool:
        """Read what the worker sent; False if it is gone (dropped, its items re-queued)."""
        lines = w.read_lines()
        if lines is None or not self._on_lines(w, lines):
            self._lost(w)
            return False
        return True

    def _on_lines(self, w: _Worker, lines: list[bytes]) -> bool:
        """Record the worker's answers; False if it broke the protocol."""
        for line in lines:
            try:
                msg = json.loads(line)
                if not w.ready:
                    if msg.get("ready") is not True:
                        return False
                    w.ready = True
                    self.owner._startup_failures = 0
                else:
                    # Workers answer strictly in order, so anything but the head is corruption.
                    if not w.inflight or msg["i"] != w.inflight[0]:
                        return False
                    result = _from_worker(msg)
                    self._resolve(w.inflight.popleft(), result)
            except (ValueError, KeyError, TypeError, AttributeError):
                return False
            w.mark = time.monotonic()
        return True


def _result(status: str, correct: bool, parsed: str | None) -> VerifyResult:
    reward = 1.0 if correct else 0.0
    return VerifyResult(reward=reward, correct=correct, status=status, parsed=parsed)


def _from_worker(msg: dict) -> VerifyResult:
    status = msg["s"]
    if status not in (VerifyStatus.OK, VerifyStatus.NO_ANSWER, VerifyStatus.ERROR):
        status = VerifyStatus.ERROR
    correct = status == VerifyStatus.OK and msg["c"] is True
    parsed = msg["x"] if isinstance(msg["x"], str) else None
    return _result(status, correct, parsed)
