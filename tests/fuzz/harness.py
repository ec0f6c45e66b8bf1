"""A fuzz harness for the `foedus` command: bad input must never break its promise.

The promise (docs/cli.md): any input gets a clear diagnostic and exit code 1 (2 for usage
errors, 0 when all is well), never a Python traceback, never a crash by a signal, never a
hang, in bounded memory. This module makes cases (``make_case``), runs each in a forked
child of a process that has already imported the command (``Runner``), classifies the
outcome (``classify``) and keeps one reproducer per distinct failure (``Campaign``).

Used by ``bench/fuzz.py`` (the long run), ``test_fuzz_smoke.py`` (a short run in the
test suite) and ``test_regressions.py`` (saved reproducers, run again).

A reproducer is a folder: the input files, ``case.json`` with the arguments (``argv``),
special files to create (``specials``: a FIFO, a folder or a symbolic link), standard
input (``stdin``) and what happened, and the captured ``stdout`` and ``stderr``; the
command runs in that folder. ``Case.load`` reads one back.
"""

from __future__ import annotations

import contextlib
import faulthandler
import hashlib
import io
import json
import os
import random
import re
import resource
import select
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import typer
from mutators import (
    AS_OF,
    LOG_FORMATS,
    Pair,
    Seeds,
    build_seeds,
    encode,
    hostile_treaty,
    mutate_bytes,
    mutate_csv,
    mutate_jsonl,
    mutate_table_file,
    pick_string,
    semantic_treaty,
)
from mutators import (
    ROOT as REPO,
)

from foedus.cli.main import app, run

MiB = 2**20
GiB = 2**30

FAMILIES = ("check", "describe", "fmt", "run-jsonl", "run-csv", "run-parquet", "run-arrow",
            "report", "explain", "special")
FAILURES = ("traceback", "crash", "hang", "wrong-exit", "memory", "escape")
EXIT_TRACEBACK = 70  # the child's code for an exception that escaped the command
EXIT_HARNESS = 71  # the child could not even start the command (a harness bug)

# ---------------------------------------------------------------- cases


@dataclass
class Case:
    """One run of the command: arguments, the files of its working folder, standard input.

    ``specials`` maps a relative path to ``dir``, ``symlink:TARGET`` or a FIFO: ``fifo``
    (no writer), ``pipe:FILE`` (a writer copies FILE into it) or ``drain`` (a reader
    empties it); ``stdin``
    is a path (relative to the folder, or absolute such as /dev/zero), or None for
    /dev/null. ``hang_key`` names a kind of case that may block (a FIFO): after a few
    hangs, more of the same kind get a short timeout.
    """

    family: str
    argv: list[str]
    files: dict[str, bytes] = field(default_factory=dict)
    specials: dict[str, str] = field(default_factory=dict)
    stdin: str | None = None
    note: str = ""
    hang_key: str | None = None
    index: int | None = None
    expected: dict[str, Any] | None = None

    @property
    def command(self) -> str:
        return next((a for a in self.argv if not a.startswith("-")), "?")

    def materialise(self, folder: Path) -> None:
        """Write the files and make the special files under ``folder``."""
        for name, data in self.files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        for name, kind in self.specials.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if kind in ("fifo", "drain") or kind.startswith("pipe:"):
                os.mkfifo(path)
            elif kind == "dir":
                path.mkdir(exist_ok=True)
            elif kind.startswith("symlink:"):
                os.symlink(kind.removeprefix("symlink:"), path)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"argv": self.argv, "family": self.family}
        if self.specials:
            out["specials"] = self.specials
        if self.stdin is not None:
            out["stdin"] = self.stdin
        if self.note:
            out["note"] = self.note
        if self.index is not None:
            out["index"] = self.index
        if self.expected is not None:
            out["expected"] = self.expected
        return out

    def save(self, folder: Path, extra: dict[str, Any] | None = None) -> None:
        """Write the case as a reproducer: the input files and ``case.json``."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in self.files.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        doc = {**self.to_json(), **(extra or {})}
        (folder / "case.json").write_text(
            json.dumps(doc, indent=2, ensure_ascii=True) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> Case:
        """A reproducer saved by ``save`` (or written by hand)."""
        doc = json.loads((folder / "case.json").read_text(encoding="utf-8"))
        files = {
            p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink() and p.name not in ("case.json", "stdout",
                                                                       "stderr")
        }
        # files of the repository the case uses as they are (an example treaty or log)
        for name, source in doc.get("copies", {}).items():
            files[name] = (REPO / source).read_bytes()
        return cls(doc.get("family", "special"), list(doc["argv"]), files,
                   dict(doc.get("specials", {})), doc.get("stdin"), doc.get("note", ""),
                   index=doc.get("index"), expected=doc.get("expected"))


# ---------------------------------------------------------------- outcomes


@dataclass
class Outcome:
    """What one run did, and its class: ``ok`` or one of ``FAILURES``."""

    kind: str
    signature: str
    exit: int | None
    signal: int | None
    max_rss: int  # bytes
    seconds: float
    stdout: bytes
    stderr: bytes
    runner: str

    @property
    def ok(self) -> bool:
        return self.kind == "ok"

    def describe(self) -> str:
        how = (f"signal {signal.Signals(self.signal).name}" if self.signal is not None
               else f"exit {self.exit}")
        return (f"{self.kind}: {self.signature} ({how}, {self.seconds:.1f} s, "
                f"{self.max_rss / MiB:.0f} MiB)")


_FRAME = re.compile(r'^\s*File "([^"]+)", line (\d+)', re.M)
_EXC = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|\w*))(?::|$)",
                  re.M)
MEMORY_WORDS = ("MemoryError", "ArrowMemoryError", "std::bad_alloc", "Cannot allocate memory",
                "out of memory")
USAGE_WORDS = ("Usage:", "Error: ", "error[two-stdins]")


def short_path(path: str) -> str:
    """A frame's file, from the package or library folder on: foedus/engine/x.py."""
    for marker in ("/site-packages/", "/src/"):
        if marker in path:
            return path.rsplit(marker, 1)[1]
    return re.sub(r"^.*/lib/python3[.\d]*/", "", path)


def traceback_site(stderr: str) -> tuple[str, str]:
    """The exception type and where it was raised: the last frame in foedus, and the last
    frame when it lies elsewhere (``foedus/a.py:12 < pathlib.py:1058``)."""
    block = stderr.rsplit("Traceback (most recent call last):", 1)[-1]
    frames = [(short_path(f), int(n)) for f, n in _FRAME.findall(block)]
    exc = "?"
    for line in reversed(block.splitlines()):
        m = _EXC.match(line)
        if m and not line.startswith(" "):
            exc = m.group(1)
            break
    if not frames:
        return exc, "?"
    ours = [f for f in frames if f[0].startswith("foedus/")]
    last = frames[-1]
    where = f"{last[0]}:{last[1]}"
    if ours and ours[-1] != last:
        where = f"{ours[-1][0]}:{ours[-1][1]} < {where}"
    return exc, where


def crash_site(stderr: str) -> str:
    """Where faulthandler saw the crash: the first foedus frame of the current thread."""
    dump = stderr[stderr.find("Fatal Python error"):]
    frames = [(short_path(f), int(n)) for f, n in _FRAME.findall(dump.split("\n\n")[0])]
    ours = [f for f in frames if f[0].startswith("foedus/")]
    if ours:
        return f"{ours[0][0]}:{ours[0][1]}"
    return f"{frames[0][0]}:{frames[0][1]}" if frames else "?"


def classify(case: Case, exit_code: int | None, sig: int | None, hung: bool, max_rss: int,
             stdout: bytes, stderr: bytes, escapes: bool, limits: Limits) -> tuple[str, str]:
    """The class of an outcome and its signature (one signature, one bug)."""
    err = stderr.decode("utf-8", "replace")
    command = case.command
    if hung or sig == signal.SIGALRM:
        return "hang", f"hang {case.hang_key or command}"
    if sig == signal.SIGXFSZ:
        return "memory", f"memory file size limit ({limits.file_size // MiB} MiB) {command}"
    if sig == signal.SIGKILL:  # not ours: the kernel's out-of-memory killer
        return "memory", f"memory killed {command}"
    if sig is not None:
        name = signal.Signals(sig).name
        if any(w in err for w in MEMORY_WORDS):
            return "memory", f"memory {name} {crash_site(err)}"
        return "crash", f"crash {name} {crash_site(err)} [{case.family}]"
    if exit_code == EXIT_HARNESS:
        return "wrong-exit", f"harness error: {traceback_site(err)}"
    if "Traceback (most recent call last)" in err or exit_code == EXIT_TRACEBACK:
        exc, where = traceback_site(err)
        kind = "memory" if exc in ("MemoryError", "ArrowMemoryError") else "traceback"
        return kind, f"{kind} {exc} at {where}"
    if max_rss > limits.max_rss:
        return "memory", f"memory rss>{limits.max_rss // MiB}MiB {command} [{case.family}]"
    if exit_code not in (0, 1, 2):
        return "wrong-exit", f"wrong-exit code {exit_code} {command}"
    if exit_code == 2 and not any(w in err for w in USAGE_WORDS):
        return "wrong-exit", f"wrong-exit code 2 without a Usage line {command}"
    if exit_code == 1 and not err.strip() and not _silent_exit_allowed(case, stdout):
        return "wrong-exit", f"wrong-exit code 1 with nothing on stderr {command}"
    if escapes:
        return "escape", f"escape: raw terminal control from the input reaches {command}"
    return "ok", "ok"


def _silent_exit_allowed(case: Case, stdout: bytes) -> bool:
    """Exit 1 with nothing on standard error is right for ``fmt --check -`` (the exit code
    is the answer) and for JSON output, which carries the diagnostics itself."""
    argv = case.argv
    if case.command == "fmt" and "--check" in argv and "-" in argv:
        return True
    machine = "--json" in argv or any(
        a == "--format" and argv[i + 1 : i + 2] in (["json"], ["jsonl"])
        for i, a in enumerate(argv))
    return machine and bool(stdout.strip())


# ---------------------------------------------------------------- running


@dataclass
class Limits:
    """The bounds a run must keep: time, address space, resident memory, file size."""

    timeout: float = 20.0
    short_timeout: float = 2.0  # for a kind of case (hang_key) that has hung hang_limit times
    hang_limit: int = 3
    memory: int = 2 * GiB  # RLIMIT_AS of the child
    max_rss: int = 1 * GiB  # more resident memory than this is a failure ("memory")
    file_size: int = 1 * GiB  # RLIMIT_FSIZE: what the command may write to one file


@dataclass
class Job:
    case: Case
    pid: int
    pidfd: int
    folder: Path
    started: float
    deadline: float
    runner: str


CHILD_ENV = {"NO_COLOR": "1", "COLUMNS": "120", "TERM": "dumb", "PYTHONFAULTHANDLER": "1"}
DROPPED_ENV = ("FORCE_COLOR", "CLICOLOR_FORCE", "PYTHONSTARTUP", "PYTHONWARNINGS")
KEEP = 64 * 1024  # the bytes of each stream kept from the start and from the end


def warm_up() -> None:
    """Do once in the parent what every child would otherwise do first: typer builds the
    converters of its parameters (importing pydantic) on first use."""
    command = typer.main.get_command(app)
    subcommands = getattr(command, "commands", {})
    for cmd in [command, *subcommands.values()]:
        for param in cmd.params:
            build = getattr(param, "get_runtime_param", None)
            if build is not None:
                build()


def default_command() -> list[str]:
    """The installed `foedus` executable beside this Python, or ``python -m foedus``."""
    script = Path(sys.executable).with_name("foedus")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "foedus"]


class Runner:
    """Runs cases in forked children (``fork``) or through the real executable (``exec``).

    A child sets RLIMIT_AS, RLIMIT_FSIZE and an alarm, takes standard input from the case
    and standard output and error to files, then calls the typer application in-process
    (or execs the command). The parent waits on pidfds, kills what outlives its timeout
    and reads the resource use from ``wait4``.
    """

    def __init__(self, work: Path, limits: Limits | None = None,
                 command: list[str] | None = None) -> None:
        self.work = work
        self.work.mkdir(parents=True, exist_ok=True)
        self.limits = limits or Limits()
        self.command = command or default_command()
        self.hangs: Counter[str] = Counter()
        self.running: list[Job] = []
        self._count = 0
        warm_up()

    def timeout_for(self, case: Case) -> float:
        if case.hang_key and self.hangs[case.hang_key] >= self.limits.hang_limit:
            return min(self.limits.short_timeout, self.limits.timeout)
        return self.limits.timeout

    def start(self, case: Case, runner: str = "fork") -> Job:
        self._count += 1
        folder = Path(tempfile.mkdtemp(prefix=f"case{self._count}-", dir=self.work))
        (folder / "case").mkdir()
        (folder / "tmp").mkdir()
        case.materialise(folder / "case")
        timeout = self.timeout_for(case)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            _child(case, folder, runner, self.command if runner == "exec" else None,
                   self.limits, timeout)
        now = time.monotonic()
        job = Job(case, pid, os.pidfd_open(pid), folder, now, now + timeout, runner)
        self.running.append(job)
        return job

    def wait(self) -> list[tuple[Job, Outcome]]:
        """Block until at least one running job ends or times out; return those."""
        done: list[tuple[Job, Outcome]] = []
        while self.running and not done:
            now = time.monotonic()
            wait = max(0.0, min(j.deadline for j in self.running) - now)
            ready, _, _ = select.select([j.pidfd for j in self.running], [], [], wait)
            now = time.monotonic()
            for job in list(self.running):
                if job.pidfd in ready:
                    done.append((job, self._reap(job, hung=False)))
                elif now >= job.deadline:
                    _kill(job.pid)
                    done.append((job, self._reap(job, hung=True)))
        return done

    def run(self, case: Case, runner: str = "fork") -> Outcome:
        """Run one case to its end."""
        job = self.start(case, runner)
        while True:
            for finished, outcome in self.wait():
                if finished is job:
                    return outcome

    def close(self) -> None:
        """Kill and reap every job still running."""
        for job in list(self.running):
            _kill(job.pid)
            self._reap(job, hung=True)

    def _reap(self, job: Job, hung: bool) -> Outcome:
        _, status, usage = os.wait4(job.pid, 0)
        os.close(job.pidfd)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(job.pid, signal.SIGKILL)  # what the child left: the ends of its pipes
        self.running.remove(job)
        seconds = time.monotonic() - job.started
        exit_code = os.waitstatus_to_exitcode(status)
        sig = -exit_code if exit_code < 0 else None
        code = None if sig is not None else exit_code
        stdout, out_escape = _read_stream(job.folder / "stdout")
        stderr, err_escape = _read_stream(job.folder / "stderr")
        escapes = err_escape or (out_escape and not _stdout_is_data(job.case))
        max_rss = usage.ru_maxrss * 1024
        kind, signature = classify(job.case, code, sig, hung and sig == signal.SIGKILL,
                                   max_rss, stdout, stderr, escapes, self.limits)
        if kind == "hang" and job.case.hang_key:
            self.hangs[job.case.hang_key] += 1
        shutil.rmtree(job.folder, ignore_errors=True)
        return Outcome(kind, signature, code, sig, max_rss, seconds, stdout, stderr, job.runner)


def _kill(pid: int) -> None:
    """Kill a child and its session (the child calls setsid first thing)."""
    for kill in (os.kill, os.killpg):
        with contextlib.suppress(ProcessLookupError):
            kill(pid, signal.SIGKILL)


def _stdout_is_data(case: Case) -> bool:
    """Standard output that is a file's content, not words for a terminal: the HTML page
    of ``report -o -`` and the formatted source of ``fmt -``."""
    argv = case.argv
    if case.command == "report":
        return any(a == "-" and argv[i - 1] in ("-o", "--output") for i, a in enumerate(argv)
                   if i)
    return case.command == "fmt" and "-" in argv


# ESC and CSI, and the marks that reorder text (LRE..RLO, LRI..PDI, LRM, RLM, ALM), as UTF-8
_ESCAPES = (b"\x1b", b"\xc2\x9b",
            *(chr(c).encode() for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A),
                                        0x200E, 0x200F, 0x061C)))


def _read_stream(path: Path) -> tuple[bytes, bool]:
    """The start and end of a captured stream, and whether it holds a terminal escape."""
    escape = False
    with path.open("rb") as f:
        size = os.fstat(f.fileno()).st_size
        head = f.read(KEEP)
        escape = any(e in head for e in _ESCAPES)
        if size <= KEEP:
            return head, escape
        tail = b""
        while chunk := f.read(1 << 20):
            escape = escape or any(e in tail[-2:] + chunk for e in _ESCAPES)
            tail = (tail + chunk)[-KEEP:]
        return head + b"\n[...]\n" + tail, escape


def _argv_bytes(arg: str) -> bytes:
    """An argument as a real process gets it: bytes. A lone surrogate a mutator made (no
    command line can hold one) goes as the bytes UTF-8 would give it."""
    return arg.encode("utf-8", "surrogateescape" if _escaped_only(arg) else "surrogatepass")


def _escaped_only(arg: str) -> bool:
    return all(not 0xD800 <= ord(c) <= 0xDFFF or 0xDC80 <= ord(c) <= 0xDCFF for c in arg)


def _start_pipes(case: Case, timeout: float) -> None:  # pragma: no cover - in the child
    """A process at the other end of each fed or drained FIFO, in the child's session."""
    for name, kind in case.specials.items():
        if not (kind == "drain" or kind.startswith("pipe:")) or os.fork() != 0:
            continue
        try:
            signal.alarm(int(timeout) + 5)
            if kind == "drain":
                fd = os.open(name, os.O_RDONLY)
                while os.read(fd, 1 << 16):
                    pass
            else:
                data = Path(kind.removeprefix("pipe:")).read_bytes()
                fd = os.open(name, os.O_WRONLY)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view[: 1 << 16]) :]
        finally:
            os._exit(0)


def _child(case: Case, folder: Path, runner: str, command: list[str] | None, limits: Limits,
           timeout: float) -> NoReturn:  # pragma: no cover - runs in the forked child
    code = EXIT_HARNESS
    try:
        os.setsid()  # no terminal, and out of the parent's process group
        os.chdir(folder / "case")
        for fd, name, flags in ((0, case.stdin or "/dev/null", os.O_RDONLY),
                                (1, str(folder / "stdout"), os.O_WRONLY | os.O_CREAT),
                                (2, str(folder / "stderr"), os.O_WRONLY | os.O_CREAT)):
            opened = os.open(name, flags, 0o644)
            os.dup2(opened, fd)
            os.close(opened)
        env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
        env.update(CHILD_ENV, TMPDIR=str(folder / "tmp"))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory, limits.memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size, limits.file_size))
        signal.alarm(int(timeout) + 5)  # in case the parent is gone
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGXFSZ):
            signal.signal(sig, signal.SIG_DFL)
        _start_pipes(case, timeout)
        if command is not None:
            os.execve(command[0], [*command, *map(_argv_bytes, case.argv)], env)
        os.environ.clear()
        os.environ.update(env)
        tempfile.tempdir = None
        # Fresh streams on fds 0-2, as a new process would have them.
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", 1, encoding="utf-8", errors="backslashreplace",  # noqa: SIM115
                          closefd=False)
        faulthandler.enable(file=sys.stderr, all_threads=True)
        # where a hang hangs: the stacks, written to stderr just before the parent kills
        faulthandler.dump_traceback_later(max(0.5, timeout - 0.5), file=sys.stderr)
        try:
            run(case.argv)
            code = 0
        except SystemExit as exc:
            if exc.code is None:
                code = 0
            elif isinstance(exc.code, int):
                code = exc.code & 0xFF
            else:
                print(exc.code, file=sys.stderr)
                code = 1
        except BaseException:
            traceback.print_exc()
            code = EXIT_TRACEBACK
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # what Python reports at exit as "Exception ignored"
            code = 120
    except BaseException:
        with contextlib.suppress(BaseException):
            os.write(2, f"harness: {traceback.format_exc()}".encode())
    os._exit(code)


# ---------------------------------------------------------------- making cases

FAMILY_WEIGHTS = {
    "check": 12, "describe": 6, "fmt": 8, "run-jsonl": 22, "run-csv": 12, "run-parquet": 10,
    "run-arrow": 10, "report": 7, "explain": 6, "special": 7,
}  # fmt: skip
TREATY = "treaty.foedus"
IMPORT_TARGETS = [
    "/dev/zero", "fifo.foedus", "sub", "missing.foedus", "treaty.foedus", "../../etc/passwd",
    "/etc/passwd", "/proc/self/mem", "/dev/urandom", "/dev/null", "", "Europe", "x" * 5000,
    "a\x00b", "shared/parties.foedus", "[/x].foedus", "loop.foedus",
]  # fmt: skip


def make_case(seeds: Seeds, index: int, seed: int,
              families: tuple[str, ...] = FAMILIES) -> Case:
    """Case number ``index`` of the run with ``seed``: the same bytes every time."""
    rng = random.Random(f"{seed}:{index}")
    weights = [FAMILY_WEIGHTS[f] for f in families]
    family = rng.choices(families, weights)[0]
    case = BUILDERS[family](rng, seeds)
    case.family = family
    case.index = index
    return case


def _treaty_case(rng: random.Random, seeds: Seeds, family: str) -> Case:
    data, notes = hostile_treaty(rng, seeds, IMPORT_TARGETS)
    files = {TREATY: data, **seeds.imports_files}
    specials = _import_specials(data)
    if family == "check":
        argv = rng.choice([["check", TREATY], ["check", "--format", "json", TREATY],
                           ["check", "--json", TREATY], ["check", "-"]])
    elif family == "describe":
        argv = rng.choice([["describe", TREATY], ["describe", "--format", "json", TREATY],
                           ["describe", "-"]])
    else:
        argv = rng.choice([["fmt", "--check", TREATY], ["fmt", TREATY], ["fmt", "-"],
                           ["fmt", "--check", "-"]])
    stdin = TREATY if "-" in argv else None
    return Case(family, argv, files, specials, stdin, " ".join(notes), _hang_key(specials))


def _import_specials(data: bytes) -> dict[str, str]:
    """The special files an `import` the mutations added may name."""
    specials = {}
    if b'"fifo.foedus"' in data:
        specials["fifo.foedus"] = "fifo"
    if b'"sub"' in data:
        specials["sub"] = "dir"
    if b'"loop.foedus"' in data:
        specials["loop.foedus"] = "symlink:loop.foedus"
    return specials


def _hang_key(specials: dict[str, str]) -> str | None:
    return "import of a FIFO" if "fifo" in specials.values() else None


def _run_treaty(rng: random.Random, pair: Pair) -> tuple[bytes, str]:
    if rng.random() < 0.25:
        text, note = semantic_treaty(rng, pair)
        return encode(text), note
    return encode(pair.treaty), ""


def _log(rng: random.Random, pair: Pair, fmt: str, p_mutate: float = 1.0) -> tuple[bytes, str]:
    if rng.random() >= p_mutate:
        return pair.logs[fmt], ""
    if fmt == "jsonl":
        data, notes = mutate_jsonl(rng, pair)
    elif fmt == "csv":
        data, notes = mutate_csv(rng, pair)
    else:
        data, notes = mutate_table_file(rng, pair, fmt)
    return data, " ".join(notes)


def _as_of(rng: random.Random) -> list[str]:
    return ["--as-of", rng.choice(AS_OF)] if rng.random() < 0.3 else []


def _run_case(rng: random.Random, seeds: Seeds, fmt: str) -> Case:
    pair = rng.choice(seeds.pairs)
    treaty, treaty_note = _run_treaty(rng, pair)
    log, log_note = _log(rng, pair, fmt)
    log_name = f"events.{fmt}"
    options: list[str] = []
    if rng.random() < 0.1:  # a name that does not say the format
        log_name = "events.log"
        options = ["--events-format", fmt]
    options += rng.choice([[], [], ["--format", "json"], ["--format", "jsonl"],
                           ["--format", "summary"], ["--skip-invalid"],
                           ["--fail-on", "violated"], ["--skip-invalid", "--format", "json"]])
    options += _as_of(rng)
    stdin = None
    log_arg = log_name
    if fmt == "jsonl" and rng.random() < 0.1:
        stdin, log_arg = log_name, "-"
    argv = ["run", TREATY, log_arg, *options]
    note = f"{pair.name}: {treaty_note} | {log_note}".strip()
    return Case(f"run-{fmt}", argv, {TREATY: treaty, log_name: log}, stdin=stdin, note=note)


def _report_case(rng: random.Random, seeds: Seeds) -> Case:
    pair = rng.choice(seeds.pairs)
    fmt = rng.choice(LOG_FORMATS)
    treaty, treaty_note = _run_treaty(rng, pair)
    log, log_note = _log(rng, pair, fmt, p_mutate=0.5)
    output = rng.choice(["out.html", "out.html", "-"])
    as_of = (["--as-of", "9999-12-31T23:59:59Z"] if rng.random() < 0.1 else _as_of(rng))
    argv = ["report", TREATY, f"events.{fmt}", "-o", output, *as_of]
    if rng.random() < 0.2:
        argv.append("--skip-invalid")
    return Case("report", argv, {TREATY: treaty, f"events.{fmt}": log},
                note=f"{pair.name}: {treaty_note} | {log_note}".strip())


def _explain_case(rng: random.Random, seeds: Seeds) -> Case:
    pair = rng.choice(seeds.pairs)
    fmt = rng.choice(LOG_FORMATS)
    treaty, treaty_note = _run_treaty(rng, pair)
    log, log_note = _log(rng, pair, fmt, p_mutate=0.5)
    item = (rng.choice(pair.items) if rng.random() < 0.6 else
            rng.choice(["", "[/x]", "e17[/x]", "\x1b[31m", "x" * 10000, "\u2028",
                        pick_string(rng), rng.choice(pair.items) + "[/x]"]))
    argv = ["explain", TREATY, f"events.{fmt}", item, *_as_of(rng)]
    if rng.random() < 0.3:
        argv += ["--format", "json"]
    return Case("explain", argv, {TREATY: treaty, f"events.{fmt}": log},
                note=f"{pair.name}: {treaty_note} | {log_note}".strip())


def _special_case(rng: random.Random, seeds: Seeds) -> Case:
    pair = rng.choice(seeds.pairs)
    treaty = encode(pair.treaty)
    log = pair.logs["jsonl"]
    base = {TREATY: treaty, "events.jsonl": log}
    kind = rng.choice(sorted(SPECIALS))
    case = SPECIALS[kind](rng, seeds, base)
    case.note = f"{kind}: {case.note}".rstrip(": ")
    if case.hang_key is None:  # special files may block or never end: bound their cost
        devices = " ".join(a for a in case.argv if a.startswith("/dev/"))
        case.hang_key = f"{kind} {case.command} {devices}".strip()
    return case


def _command_on(rng: random.Random, path: str) -> list[str]:
    return rng.choice([["check", path], ["describe", path], ["fmt", "--check", path],
                       ["run", path, "events.jsonl"], ["report", path, "events.jsonl",
                                                       "-o", "out.html"]])


def _special_zero_treaty(rng: random.Random, seeds: Seeds, base: dict[str, bytes]) -> Case:
    path = rng.choice(["/dev/zero", "/dev/urandom", "/dev/null"])
    return Case("special", _command_on(rng, path), base)


def _special_zero_import(rng: random.Random, seeds: Seeds, base: dict[str, bytes]) -> Case:
    target = rng.choice(["/dev/zero", "/dev/urandom", "/proc/self/mem", "/dev/full"])
    treaty = f'import "{target}"\n'.encode() + base[TREATY]
    return Case("special", _command_on(rng, TREATY), {**base, TREATY: treaty}, note=target)


def _special_zero_log(rng: random.Random, seeds: Seeds, base: dict[str, bytes]) -> Case:
    path = rng.choice(["/dev/zero", "/dev/urandom", "/dev/null"])
    argv = ["run", TREATY, path]
    if rng.random() < 0.8:
        argv += ["--events-format", rng.choice(LOG_FORMATS)]
    return Case("special", argv, base)


def _special_fifo(rng: random.Random, seeds: Seeds, base: dict[str, bytes]) -> Case:
    """FIFOs: fed (a log or treaty through a pipe, as `<(...)` gives one), drained (the
    report's output), or with no writer where nothing on the command line names them (an
    import, a folder's contents), which must not block."""
    where = rng.choice(["treaty", "log", "log", "import", "output", "in-folder"])
    if where == "treaty":
        data, notes = (hostile_treaty(rng, seeds, IMPORT_TARGETS) if rng.random() < 0.5
                       else (base[TREATY], []))
        return Case("special", _command_on(rng, "fifo.foedus"), {**base, "fifo.src": data},
                    {"fifo.foedus": "pipe:fifo.src"}, note=f"{where} {' '.join(notes)}",
                    hang_key="FIFO as treaty")
    if where == "log":
        pair = rng.choice(seeds.pairs)
        fmt = rng.choice(LOG_FORMATS)
        log, note = _log(rng, pair, fmt, p_mutate=0.5)
        argv = ["run", TREATY, f"fifo.{fmt}", *rng.choice([[], ["--format", "json"]])]
        return Case("special", argv, {TREATY: encode(pair.treaty), "fifo.src": log},
                    {f"fifo.{fmt}": "pipe:fifo.src"}, note=f"{where} {fmt} {note}",
                    hang_key=f"FIFO as {fmt} log")
    if where == "import":
        treaty = b'import "fifo.foedus"\n' + base[TREATY]
        return Case("special", _command_on(rng, TREATY), {**base, TREATY: treaty},
                    {"fifo.foedus": "fifo"}, note=where, hang_key="import of a FIFO")
    if where == "output":
        return Case("special", ["report", TREATY, "events.jsonl", "-o", "fifo.html"], base,
                    {"fifo.html": "drain"}, note=where, hang_key="FIFO as report output")
    return Case("special", [rng.choice(["check", "fmt"]), "folder"],
                {**base, "folder/a.foedus": base[TREATY]}, {"folder/b.foedus": "fifo"},
                note=where, hang_key="FIFO in a checked folder")


def _special_dir(rng: random.Random, seeds: Seeds, base: dict[str, bytes]) -> Case:
    where = rng.choice(["treaty", "log", "import", "empty-folder"])
    if where == "treaty":
        return Case("special", _command_on(rng, "dir.foedus"), base, {"dir.foedus": "dir"},
                    note=where)
    if where == "log":
        return Case("special", ["run", TREATY, "dir.jsonl"], base, {"dir.jsonl": "dir"},
                    note=where)
    if where == "import":
        treaty = b'import "sub"\n' + base[TREATY]
        return Case("special", _command_on(rng, TREATY), {**base, TREATY: treaty},
                    {"sub": "dir"}, note=where)
    return Case("special", [rng.choice(["check", "fmt"]), "empty"], base, {"empty": "dir"},
                note=where)


def _special_missing(rng: random.Random, seeds: Seeds, base: dict[str, bytes]) -> Case:
    argv = rng.choice([
        ["check", "missing.foedus"], ["describe", "missing.foedus"],
        ["fmt", "missing.foedus"], ["run", "missing.foedus", "events.jsonl"],
        ["run", TREATY, "missing.jsonl"], ["explain", TREATY, "missing.parquet", "x"],
        ["report", TREATY, "missing.arrow", "-o", "out.html"], ["check", ""],
        ["run", TREATY, ""], ["check", "x" * 5000], ["run", TREATY, "x" * 300 + ".jsonl"],
        ["run", TREATY, "loop.jsonl"], ["check", "loop.foedus"],
    ])  # fmt: skip
    specials = {"loop.jsonl": "symlink:loop.jsonl", "loop.foedus": "symlink:loop.foedus"}
    return Case("special", argv, base, specials)


def _special_empty(rng: random.Random, seeds: Seeds, base: dict[str, bytes]) -> Case:
    if rng.random() < 0.4:
        return Case("special", _command_on(rng, "empty.foedus"), {**base, "empty.foedus": b""})
    fmt = rng.choice(LOG_FORMATS)
    return Case("special", ["run", TREATY, f"empty.{fmt}", *_as_of(rng)],
                {**base, f"empty.{fmt}": rng.choice([b"", b"\n", b"\xef\xbb\xbf", b" "])})


def _special_names(rng: random.Random, seeds: Seeds, base: dict[str, bytes]) -> Case:
    """Paths that are markup, escapes or odd text, shown in a diagnostic."""
    name = rng.choice(["a[/x].foedus", "[bold]t.foedus", "\x1b[31mred.foedus", "a\nb.foedus",
                       "\udcff.foedus", "a\u2028b.foedus", "[link=x]t[/link].foedus"])
    bad = base[TREATY] + b"\nclause oops\n"
    if rng.random() < 0.5:
        return Case("special", _command_on(rng, name), {**base, name: bad})
    log_name = name.replace(".foedus", ".jsonl")
    log = b'{"id": "e1", "at": "2022-03-29T10:00:00Z", "type": "nothing"}\n'
    return Case("special", ["run", TREATY, log_name], {**base, log_name: log})


def _special_stdin(rng: random.Random, seeds: Seeds, base: dict[str, bytes]) -> Case:
    source = rng.choice(["/dev/zero", "/dev/urandom", "treaty", "log"])
    if source in ("/dev/zero", "/dev/urandom"):
        argv = rng.choice([["check", "-"], ["fmt", "-"], ["describe", "-"],
                           ["run", "-", "events.jsonl"], ["run", TREATY, "-"],
                           ["run", TREATY, "-", "--events-format", "csv"]])
        return Case("special", argv, base, stdin=source, note=source,
                    hang_key=f"{source} on stdin {argv[0]}")
    if source == "treaty":
        data, notes = hostile_treaty(rng, seeds, IMPORT_TARGETS)
        return Case("special", ["run", "-", "events.jsonl"], {**base, "in.foedus": data},
                    _import_specials(data), stdin="in.foedus", note=" ".join(notes),
                    hang_key=_hang_key(_import_specials(data)))
    pair = rng.choice(seeds.pairs)
    fmt = rng.choice(LOG_FORMATS)
    log, note = _log(rng, pair, fmt)
    return Case("special", ["run", TREATY, "-", "--events-format", fmt],
                {TREATY: encode(pair.treaty), "in.log": log}, stdin="in.log", note=note)


def _special_argv(rng: random.Random, seeds: Seeds, base: dict[str, bytes]) -> Case:
    argv = rng.choice([
        ["run", "-", "-"], ["run", TREATY], ["run", TREATY, "events.jsonl", "--as-of"],
        ["run", TREATY, "events.jsonl", "--format", "xml"], ["check"], ["--bogus"],
        ["run", TREATY, "events.jsonl", "--events-format", "xml"],
        ["run", TREATY, "events.jsonl", "--fail-on", "everything"],
        ["report", TREATY, "events.jsonl", "-o", "/nonexistent/dir/out.html"],
        ["report", TREATY, "events.jsonl", "-o", "."],
        ["report", TREATY, "events.jsonl", "-o", "/dev/full"],
        ["report", TREATY, "events.jsonl", "-o", ""],
        ["report", TREATY, "events.jsonl", "-o", "x" * 5000 + ".html"],
        ["explain", TREATY, "events.jsonl"], ["describe", TREATY, TREATY],
        ["fmt", TREATY, TREATY], ["check", TREATY, TREATY, "-"],
    ])  # fmt: skip
    return Case("special", argv, base)


def _special_import(rng: random.Random, seeds: Seeds, base: dict[str, bytes]) -> Case:
    shape = rng.choice(["self", "cycle", "hostile", "many"])
    if shape == "self":
        treaty = b'import "treaty.foedus"\n' + base[TREATY]
        return Case("special", _command_on(rng, TREATY), {**base, TREATY: treaty}, note=shape)
    if shape == "cycle":
        files = {**base, "a.foedus": b'import "b.foedus"\nrole r\n',
                 "b.foedus": b'import "a.foedus"\nrole s\n',
                 TREATY: b'import "a.foedus"\n' + base[TREATY]}
        return Case("special", _command_on(rng, TREATY), files, note=shape)
    if shape == "many":
        lines = b"".join(f'import "d{i}.foedus"\n'.encode() for i in range(2000))
        files = {**base, TREATY: lines + base[TREATY]}
        return Case("special", _command_on(rng, TREATY), files, note=shape)
    target = rng.choice(IMPORT_TARGETS)
    treaty = encode(f'import "{target}"\n') + base[TREATY]
    specials = _import_specials(treaty)
    return Case("special", _command_on(rng, TREATY), {**base, TREATY: treaty}, specials,
                note=f"{shape} {target[:40]!r}", hang_key=_hang_key(specials))


def _special_spliced(rng: random.Random, seeds: Seeds, base: dict[str, bytes]) -> Case:
    """A log in one format under the name of another."""
    pair = rng.choice(seeds.pairs)
    real, named = rng.sample(LOG_FORMATS, 2)
    data = pair.logs[real]
    if rng.random() < 0.5:
        data = mutate_bytes(rng, data, list(pair.logs.values()))
    return Case("special", ["run", TREATY, f"events.{named}"],
                {TREATY: encode(pair.treaty), f"events.{named}": data},
                note=f"{real} named .{named}")


SPECIALS: dict[str, Callable[[random.Random, Seeds, dict[str, bytes]], Case]] = {
    "zero-treaty": _special_zero_treaty, "zero-import": _special_zero_import,
    "zero-log": _special_zero_log, "fifo": _special_fifo, "dir": _special_dir,
    "missing": _special_missing, "empty": _special_empty, "names": _special_names,
    "stdin": _special_stdin, "argv": _special_argv, "import": _special_import,
    "spliced": _special_spliced,
}  # fmt: skip

BUILDERS: dict[str, Callable[[random.Random, Seeds], Case]] = {
    "check": lambda rng, seeds: _treaty_case(rng, seeds, "check"),
    "describe": lambda rng, seeds: _treaty_case(rng, seeds, "describe"),
    "fmt": lambda rng, seeds: _treaty_case(rng, seeds, "fmt"),
    "run-jsonl": lambda rng, seeds: _run_case(rng, seeds, "jsonl"),
    "run-csv": lambda rng, seeds: _run_case(rng, seeds, "csv"),
    "run-parquet": lambda rng, seeds: _run_case(rng, seeds, "parquet"),
    "run-arrow": lambda rng, seeds: _run_case(rng, seeds, "arrow"),
    "report": _report_case,
    "explain": _explain_case,
    "special": _special_case,
}

# ---------------------------------------------------------------- campaigns


@dataclass
class Row:
    """The outcomes of one family."""

    cases: int = 0
    seconds: float = 0.0
    max_rss: int = 0
    failures: Counter[str] = field(default_factory=Counter)


@dataclass
class Failure:
    """A distinct failure: its signature, how often it was seen, and its reproducer."""

    signature: str
    kind: str
    count: int = 0
    families: Counter[str] = field(default_factory=Counter)
    runners: Counter[str] = field(default_factory=Counter)
    reproducer: str = ""
    indices: list[int] = field(default_factory=list)


@dataclass
class Campaign:
    """Many cases run against the command; failures saved under ``out``.

    Case i of a campaign with seed s is ``make_case(seeds, i, s)``; every ``exec_every``-th
    case is also run through the real executable (``exec``) to check that the forked
    runs judge as the command does end to end.
    """

    seeds: Seeds
    runner: Runner
    out: Path
    seed: int = 1
    jobs: int = 1
    exec_every: int = 200
    families: tuple[str, ...] = FAMILIES
    rows: dict[str, Row] = field(default_factory=dict)
    failures: dict[str, Failure] = field(default_factory=dict)
    e2e: Counter[str] = field(default_factory=Counter)
    done: int = 0

    def __post_init__(self) -> None:
        self.rows = {f: Row() for f in self.families}

    @property
    def failed(self) -> int:
        return sum(f.count for f in self.failures.values())

    def run(self, cases: range, on_outcome: Callable[[Case, Outcome], None] | None = None,
            ) -> None:
        """Run the cases ``cases`` (indices), ``jobs`` at a time."""
        queue = self._jobs(cases)
        runner = self.runner
        try:
            pending = next(queue, None)
            while pending is not None or runner.running:
                while pending is not None and len(runner.running) < self.jobs:
                    runner.start(*pending)
                    pending = next(queue, None)
                for job, outcome in runner.wait():
                    self.record(job.case, outcome)
                    if on_outcome is not None:
                        on_outcome(job.case, outcome)
        finally:
            runner.close()

    def _jobs(self, cases: range) -> Iterator[tuple[Case, str]]:
        for i in cases:
            case = make_case(self.seeds, i, self.seed, self.families)
            yield case, "fork"
            if self.exec_every and i % self.exec_every == self.exec_every // 2:
                yield case, "exec"

    def record(self, case: Case, outcome: Outcome) -> None:
        if outcome.runner == "exec":
            self.e2e["runs"] += 1
            self.e2e[outcome.kind] += 1
        else:
            self.done += 1
            row = self.rows[case.family]
            row.cases += 1
            row.seconds += outcome.seconds
            row.max_rss = max(row.max_rss, outcome.max_rss)
            if not outcome.ok:
                row.failures[outcome.kind] += 1
        if outcome.ok:
            return
        signature = outcome.signature
        failure = self.failures.get(signature)
        if failure is None:
            failure = self.failures[signature] = Failure(signature, outcome.kind)
            failure.reproducer = str(self.save(case, outcome))
        failure.count += 1
        failure.families[case.family] += 1
        failure.runners[outcome.runner] += 1
        if (case.index is not None and case.index not in failure.indices
                and len(failure.indices) < 10):
            failure.indices.append(case.index)

    def save(self, case: Case, outcome: Outcome) -> Path:
        """Write a reproducer for a new signature; return its folder."""
        digest = hashlib.sha1(outcome.signature.encode()).hexdigest()[:10]
        folder = self.out / f"{outcome.kind}-{digest}"
        if folder.exists():
            shutil.rmtree(folder)
        case.save(folder, {
            "class": outcome.kind,
            "signature": outcome.signature,
            "runner": outcome.runner,
            "seed": self.seed,
            "exit": outcome.exit,
            "signal": signal.Signals(outcome.signal).name if outcome.signal else None,
            "max_rss_mib": round(outcome.max_rss / MiB, 1),
            "seconds": round(outcome.seconds, 2),
            "stderr_tail": _tail(outcome.stderr, 40),
            "stdout_tail": _tail(outcome.stdout, 10),
        })
        (folder / "stdout").write_bytes(outcome.stdout)
        (folder / "stderr").write_bytes(outcome.stderr)
        return folder

    def summary(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "cases": self.done,
            "rows": {name: {"cases": r.cases, "seconds": round(r.seconds, 1),
                            "max_rss_mib": round(r.max_rss / MiB, 1),
                            "failures": dict(r.failures)} for name, r in self.rows.items()},
            "end_to_end": dict(self.e2e),
            "failures": [
                {**asdict(f), "families": dict(f.families), "runners": dict(f.runners)}
                for f in sorted(self.failures.values(), key=lambda f: (-f.count, f.signature))
            ],
        }


def _tail(data: bytes, lines: int, width: int = 240) -> str:
    """The last lines of a stream, each cut to ``width`` characters, for case.json."""
    text = data.decode("utf-8", "backslashreplace").splitlines()[-lines:]
    return "\n".join(t if len(t) <= width else t[:width] + " [...]" for t in text)


def seeds_in(folder: Path) -> Seeds:
    """The seeds, their logs written under ``folder``."""
    return build_seeds(folder / "seeds")


def describe_failures(campaign: Campaign) -> str:
    """One line per distinct failure: count, signature, reproducer, first case index."""
    lines = []
    for f in sorted(campaign.failures.values(), key=lambda f: (-f.count, f.signature)):
        lines.append(f"{f.count:5d}  {f.signature}\n       {f.reproducer} (cases {f.indices})")
    return "\n".join(lines)


def shell_line(case: Case) -> str:
    """For messages: the arguments, as a shell would show them."""
    buf = io.StringIO()
    buf.write("foedus")
    for a in case.argv:
        buf.write(" " + (a if re.fullmatch(r"[\w./=:+-]+", a) else repr(a)))
    if case.stdin:
        buf.write(f" < {case.stdin}")
    return buf.getvalue()


__all__ = [
    "FAILURES",
    "FAMILIES",
    "Campaign",
    "Case",
    "Limits",
    "Outcome",
    "Runner",
    "classify",
    "describe_failures",
    "make_case",
    "seeds_in",
    "shell_line",
]
