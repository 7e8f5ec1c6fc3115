"""Many independent tasks on a local process pool or on Ray, each finished one recorded on disk.

Auditing, training or explaining a population is a bag of independent tasks (one agent on one
suite, one seed of a recipe, one slice of a dataset). We do not schedule them ourselves: a local
run uses the standard library's :class:`~concurrent.futures.ProcessPoolExecutor` (one task per
worker process, one torch thread each), and ``--ray`` hands the same tasks to Ray, locally
(``auto``) or on a cluster (an address). Either way every task's result is written to
``OUT/tasks/KEY.json`` the moment it finishes, so an interrupted run resumes with only the tasks
that have no record, and a task that raises is recorded as failed and reported without stopping
the others (a rerun tries it again).

A task is a *kind* (a function in :mod:`rl_workbench.population.work`) and JSON parameters; it
seeds itself from those parameters, so the pool, Ray and a serial run give the same results.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import re
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tqdm.auto import tqdm

from rl_workbench.errors import InvalidArgumentError
from rl_workbench.outputs import write_text_atomically

BackendKind = Literal["serial", "pool", "ray"]

_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.=+-]{0,150}$")


LOCATION_PARAMS = ("out", "command", "trust")
"""Parameters that do not change what a task computes (where it writes, the command line to
quote on a card, whether loading may run code): a record made before OUT was moved, or by a
command with other --workers, still counts."""


@dataclass(frozen=True)
class Task:
    """One independent piece of work: ``kind`` names a function of :mod:`.work`.

    Attributes:
        key: a file-name-safe identifier, unique in the run.
        kind: which function of :mod:`.work` runs it.
        params: its JSON parameters (absolute paths: workers may run elsewhere).
        expects: a file the task leaves behind; a record whose file is gone is run again.
    """

    key: str
    kind: str
    params: dict[str, Any]
    expects: str | None = None

    def __post_init__(self) -> None:
        if not _KEY.match(self.key):
            raise ValueError(f"task key {self.key!r} is not a plain file name")


@dataclass(frozen=True)
class Backend:
    """Where tasks run.

    Attributes:
        kind: ``serial`` (in this process, for debugging and as the speed baseline), ``pool``
            (local worker processes, the default) or ``ray``.
        workers: worker processes for ``pool`` and CPUs of a local Ray.
        ray_address: ``auto`` starts (or joins, when ``RAY_ADDRESS`` is set) a local Ray;
            anything else is a cluster address given to ``ray.init``.
    """

    kind: BackendKind = "pool"
    workers: int = 0
    ray_address: str = "auto"

    def worker_count(self) -> int:
        return self.workers if self.workers > 0 else max(1, os.cpu_count() or 1)

    def describe(self) -> str:
        if self.kind == "serial":
            return "serially in this process"
        if self.kind == "pool":
            return f"on a local pool of {self.worker_count()} worker processes"
        if self.ray_address == "auto":
            return f"on a local Ray ({self.worker_count()} CPUs)"
        return f"on the Ray cluster at {self.ray_address}"


@dataclass
class Outcome:
    """What a run of tasks produced: results by key (this run's and earlier runs' alike)."""

    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    resumed: int = 0
    """Tasks whose record an earlier run left, so they were not run again."""
    seconds: float = 0.0


class Ledger:
    """``OUT/tasks/KEY.json``: one record per task, written atomically when it finishes."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder) / "tasks"
        self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def finished(self, task: Task) -> dict[str, Any] | None:
        """The result of an earlier run of this very task (same kind and parameters), if any."""
        path = self._path(task.key)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # missing, or torn by a crash: run it again
        same = record.get("kind") == task.kind and _identity(record.get("params")) == _identity(
            task.params
        )
        if record.get("status") != "done" or not same:
            return None
        if task.expects is not None and not Path(task.expects).exists():
            return None  # its output was deleted since: run it again
        return dict(record["result"])

    def record(self, task: Task, status: str, payload: Any, seconds: float) -> None:
        body = {
            "key": task.key,
            "kind": task.kind,
            "params": task.params,
            "status": status,
            "result" if status == "done" else "error": payload,
            "seconds": round(seconds, 3),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        write_text_atomically(self._path(task.key), json.dumps(body, indent=1) + "\n")


def _identity(params: Any) -> Any:
    if not isinstance(params, dict):
        return params
    return {k: v for k, v in params.items() if k not in LOCATION_PARAMS}


def run_guarded(kind: str, params: dict[str, Any]) -> tuple[str, Any, float]:
    """Run one task in a worker; an exception becomes a ``failed`` record, never a crash."""
    from rl_workbench.errors import RLWorkbenchError

    from .work import execute

    started = time.perf_counter()
    try:
        return "done", execute(kind, params), time.perf_counter() - started
    except RLWorkbenchError as exc:  # bad input: its one-line message says it all
        return "failed", f"{exc.title}: {exc}", time.perf_counter() - started
    except Exception as exc:  # one broken task must not stop the population
        last = traceback.extract_tb(exc.__traceback__)[-1:]
        where = f" ({last[0].filename}:{last[0].lineno})" if last else ""
        message = f"{type(exc).__name__}: {exc}{where}"
        return "failed", message, time.perf_counter() - started


def _init_worker(threads: int) -> None:
    """One torch thread per worker, and (on Linux) die with the parent: a killed run must not
    leave workers training into folders that its rerun is about to use."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    import torch

    torch.set_num_threads(threads)


def run_tasks(
    tasks: Iterable[Task],
    out: Path,
    backend: Backend,
    *,
    progress: bool = True,
    desc: str = "tasks",
    on_result: Callable[[Task, dict[str, Any]], None] | None = None,
) -> Outcome:
    """Run every task without a record in ``out``; return all results, old and new."""
    started = time.perf_counter()
    ledger = Ledger(out)
    outcome = Outcome()
    todo: list[Task] = []
    seen: set[str] = set()
    for task in tasks:
        if task.key in seen:
            raise ValueError(f"two tasks share the key {task.key!r}")
        seen.add(task.key)
        earlier = ledger.finished(task)
        if earlier is None:
            todo.append(task)
        else:
            outcome.results[task.key] = earlier
            outcome.resumed += 1
    bar = tqdm(total=len(todo), desc=desc, unit="task", disable=not progress or not todo)

    def finish(task: Task, status: str, payload: Any, seconds: float) -> None:
        ledger.record(task, status, payload, seconds)
        if status == "done":
            outcome.results[task.key] = payload
            if on_result is not None:
                on_result(task, payload)
        else:
            outcome.failures[task.key] = str(payload)
            bar.write(f"{task.key}: failed: {payload}")
        bar.update(1)

    try:
        if todo:
            runner = {"serial": _run_serial, "pool": _run_pool, "ray": _run_ray}[backend.kind]
            runner(todo, backend, finish)
    finally:
        bar.close()
    outcome.seconds = time.perf_counter() - started
    return outcome


_Finish = Callable[[Task, str, Any, float], None]


def _run_serial(todo: list[Task], backend: Backend, finish: _Finish) -> None:
    for task in todo:
        finish(task, *run_guarded(task.kind, task.params))


def _run_pool(todo: list[Task], backend: Backend, finish: _Finish) -> None:
    """All tasks on one pool; should a worker die (killed, out of memory), Python fails every
    task still in that pool, so those run again each in a pool of its own: only the task that
    kills its worker again is recorded as failed."""
    broken = _pool_pass(todo, min(backend.worker_count(), len(todo)), finish)
    for task in broken:
        for again in _pool_pass([task], 1, finish):
            finish(again, "failed", "its worker process died (killed, or out of memory)", 0.0)


def _pool_pass(todo: list[Task], workers: int, finish: _Finish) -> list[Task]:
    # spawn, not fork: the parent has torch (and its thread pools) loaded, which fork copies
    # in an undefined state; workers import what their tasks need.
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker, initargs=(1,))
    broken: list[Task] = []
    try:
        pending: dict[Future[tuple[str, Any, float]], Task] = {
            pool.submit(run_guarded, task.kind, task.params): task for task in todo
        }
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                task = pending.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    broken.append(task)
                    continue
                finish(task, *result)
    except BaseException:
        # Ctrl-C, or a record that cannot be written: stop now, not after every queued task
        # (whose results nobody would record).
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return broken


def _run_ray(todo: list[Task], backend: Backend, finish: _Finish) -> None:
    try:
        import ray
    except ImportError as exc:
        raise InvalidArgumentError(
            "--ray needs Ray, which is not installed here: pip install 'rl-workbench[ray]' "
            "(or run without --ray on the local process pool)."
        ) from exc
    started_here = not ray.is_initialized()
    if started_here:
        local = backend.ray_address == "auto" and not os.environ.get("RAY_ADDRESS")
        init: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": False,
            "logging_level": logging.WARNING,
        }
        if local:
            init["num_cpus"] = backend.worker_count()
        else:
            init["address"] = backend.ray_address if backend.ray_address != "auto" else None
        try:
            ray.init(**init)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise InvalidArgumentError(
                f"Ray could not start or connect ({backend.ray_address}): {exc}. Check the "
                "address (e.g. ray://HEAD:10001), or use --ray auto for a local Ray."
            ) from exc
    try:
        remote = ray.remote(num_cpus=1)(_ray_task)
        pending = {remote.remote(task.kind, task.params): task for task in todo}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                task = pending.pop(ref)
                try:
                    finish(task, *ray.get(ref))
                except ray.exceptions.RayError as exc:  # the worker died, not the task raised
                    first = (str(exc).strip().splitlines() or [""])[0][:300]
                    finish(task, "failed", f"Ray lost the task ({type(exc).__name__}): {first}", 0)
    finally:
        if started_here:
            ray.shutdown()


def _ray_task(kind: str, params: dict[str, Any]) -> tuple[str, Any, float]:
    _init_worker(1)
    return run_guarded(kind, params)
