"""Hostile input through the real command: a diagnostic with its place and exit 1, never a
traceback, a hang or unbounded memory (docs/limits.md lists every limit).

Each case is one a user could meet, or one a fuzzer found; they run as subprocesses with a
timeout, so a hang fails the test instead of stopping the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_process import FLAGSHIP, LOG, foedus_cmd, text

SOURCE = FLAGSHIP.read_text(encoding="utf-8")
RECORDS = [json.loads(line) for line in LOG.read_text(encoding="utf-8").splitlines()]


def errors(done: object) -> str:
    stderr = done.stderr.decode("utf-8")  # type: ignore[attr-defined]
    assert "Traceback" not in stderr, stderr
    return stderr


def write_log(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    return path


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    yield path


def feed(fifo: Path, data: bytes) -> threading.Thread:
    """Write ``data`` into ``fifo`` from a thread (opening it blocks until it is read)."""
    def write() -> None:
        with fifo.open("wb") as sink:
            sink.write(data)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


# ---------------------------------------------------------------- treaties


def test_an_endless_treaty_is_refused_at_the_size_limit() -> None:
    done = foedus_cmd("check", "/dev/zero", timeout=60)
    assert done.returncode == 1
    assert "error[file-too-large]: the file is larger than the limit of 20,971,520 bytes" \
        in errors(done)


@pytest.mark.parametrize("target", ["/dev/zero", "pipe", "folder"])
def test_an_import_must_be_a_regular_file(tmp_path: Path, fifo: Path, target: str) -> None:
    (tmp_path / "folder").mkdir()
    treaty = tmp_path / "t.foedus"
    treaty.write_text(f'import "{target}"\ntreaty t "T"\n', encoding="utf-8")
    done = foedus_cmd("check", treaty, timeout=60)
    assert done.returncode == 1
    stderr = errors(done)
    assert "error[import-not-found]" in stderr and "t.foedus:1:8" in stderr
    assert ("it is a folder" if target == "folder" else "it is not a regular file") in stderr


def test_a_number_past_python_digit_limit_is_a_diagnostic(tmp_path: Path) -> None:
    treaty = tmp_path / "t.foedus"
    treaty.write_text(SOURCE.replace("within 3 days of attack", "within " + "9" * 5000
                                     + " days of attack", 1), encoding="utf-8")
    done = foedus_cmd("check", treaty)
    assert done.returncode == 1
    assert "error[number-too-long]: a number may have at most 30 characters; this one has " \
        "5,000" in errors(done)


def test_the_quoted_line_is_the_line_the_parser_counts(tmp_path: Path) -> None:
    """A form feed or U+2028 is not an end of line: the line shown is the one named, and a
    control character in it is shown as one visible character, never sent raw."""
    treaty = tmp_path / "t.foedus"
    treaty.write_text('treaty t "x"\x0c\nparty A "a"\n\u2028bogus\x1b[2J\n', encoding="utf-8")
    done = foedus_cmd("check", treaty)
    stderr = errors(done)
    assert done.returncode == 1
    assert "t.foedus:3:1" in stderr
    assert "3 | \ufffdbogus\ufffd[2J" in stderr
    assert "\x1b" not in stderr and "\u2028" not in stderr


def test_a_treaty_check_accepts_runs_at_the_end_of_time(tmp_path: Path) -> None:
    """The longest deadlines check allows, from events near year 9999, are due at the last
    instant: run and report give verdicts, not an overflow."""
    treaty = tmp_path / "t.foedus"
    treaty.write_text(SOURCE.replace("within 3 days of attack", "within 120000 months of attack")
                      .replace("within 3 days of decided", "within 3652425 business days of "
                               "decided"), encoding="utf-8")
    late = [{**r, "at": r["at"].replace("2022-", "9999-", 1)} for r in RECORDS]
    log = write_log(tmp_path / "late.jsonl", [r for r in late if r["at"] < "9999-12-30"])
    done = foedus_cmd("run", treaty, log, "--format", "json")
    assert done.returncode == 0, errors(done)
    dues = {o["due_at"] for o in json.loads(text(done))["obligations"]
            if o["clause"] in ("consult", "support")}
    assert "9999-12-30T23:59:59.999999Z" in dues
    report = foedus_cmd("report", treaty, log, "--as-of", "9999-12-30T23:59:59Z",
                        "-o", tmp_path / "r.html")
    assert report.returncode == 0, errors(report)


@pytest.mark.parametrize(("amount", "code"), [
    ("3652426 days", "deadline-too-long"), ("99999999 business days", "deadline-too-long"),
    ("87658201 hours", "deadline-too-long")])
def test_a_deadline_longer_than_the_range_of_times_is_refused(
        tmp_path: Path, amount: str, code: str) -> None:
    treaty = tmp_path / "t.foedus"
    treaty.write_text(SOURCE.replace("within 3 days of attack", f"within {amount} of attack", 1),
                      encoding="utf-8")
    done = foedus_cmd("check", treaty)
    assert done.returncode == 1 and f"error[{code}]" in errors(done)


# ---------------------------------------------------------------- logs


def test_an_endless_log_stops_at_the_record_limit() -> None:
    for fmt in ("jsonl", "csv"):
        done = foedus_cmd("run", FLAGSHIP, "/dev/zero", "--events-format", fmt, timeout=60)
        assert done.returncode == 1
        assert "error[event-too-large]: line 1 is longer than the limit of 1,048,576 " \
            "characters" in errors(done)


def test_an_endless_log_on_standard_input_stops_too() -> None:
    done = foedus_cmd("run", FLAGSHIP, "-", stdin=b"\0" * (3 << 20), timeout=60)
    assert done.returncode == 1 and "<stdin>:1:1" in errors(done)


def test_a_huge_id_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    """A 10 MB id is past the record limit; --max-record lets a user raise it."""
    log = write_log(tmp_path / "big.jsonl", [RECORDS[0], {**RECORDS[1], "id": "x" * 10**7},
                                             *RECORDS[2:]])
    done = foedus_cmd("run", FLAGSHIP, log, "--format", "summary")
    assert done.returncode == 1
    stderr = errors(done)
    assert "big.jsonl:2:1" in stderr and "--max-record" in stderr
    assert len(stderr) < 5000  # the line is quoted in part only
    raised = foedus_cmd("run", FLAGSHIP, log, "--format", "summary", "--max-record", "20000000")
    assert raised.returncode == 0, errors(raised)


def test_a_table_value_past_the_record_limit_is_named(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [{"id": r["id"], "at": r["at"], "type": r["type"], **r["fields"]} for r in RECORDS]
    rows[1]["id"] = "y" * 2000
    table = pa.Table.from_pylist(rows)
    pq.write_table(table, tmp_path / "log.parquet")
    done = foedus_cmd("run", FLAGSHIP, tmp_path / "log.parquet", "--max-record", "1000")
    assert done.returncode == 1
    assert "error[event-too-large]: id holds 2,000 characters; the limit is 1,000" \
        in errors(done)


def test_a_log_from_a_pipe_is_read_once_even_out_of_order(fifo: Path) -> None:
    """A pipe cannot be read twice: an unsorted log with a bad record is judged in one
    reading, and a good one gives the verdicts a file gives."""
    feed(fifo, "".join(json.dumps(r) + "\n" for r in reversed(RECORDS)).encode())
    done = foedus_cmd("run", FLAGSHIP, fifo, "--format", "summary", timeout=60)
    assert done.returncode == 0, errors(done)
    from_file = foedus_cmd("run", FLAGSHIP, LOG, "--format", "summary")
    assert text(done) == text(from_file)
    feed(fifo, b"null\n" + LOG.read_bytes())
    bad = foedus_cmd("run", FLAGSHIP, fifo, timeout=60)
    assert bad.returncode == 1 and "error[event-not-object]" in errors(bad)


def test_what_a_log_says_cannot_drive_the_terminal(tmp_path: Path) -> None:
    """An id with an escape sequence and markup: shown escaped and as written, in the table,
    in explanations and in JSON."""
    odd = "e17[/x][bold]\x1b[31mRED\x9b"
    log = write_log(tmp_path / "odd.jsonl", [RECORDS[0], {**RECORDS[1], "id": odd},
                                             *RECORDS[2:]])
    table = foedus_cmd("run", FLAGSHIP, log)
    assert table.returncode == 0, errors(table)
    shown = text(table)
    assert "\x1b" not in shown and "\x9b" not in shown
    assert "stop_chernihiv/e17[/x][bold]\\x1b[31mRED\\x9b/RU" in shown
    explained = foedus_cmd("explain", FLAGSHIP, log, "stop_chernihiv")
    assert explained.returncode == 0 and "\x1b" not in text(explained)
    as_json = foedus_cmd("run", FLAGSHIP, log, "--format", "json")
    assert "\\u001b" in text(as_json) and "\\u009b" in text(as_json)
    ids = {o["id"] for o in json.loads(text(as_json))["obligations"]}
    assert f"stop_chernihiv/{odd}/RU" in ids


def test_marks_that_reverse_text_are_shown_not_obeyed(tmp_path: Path) -> None:
    """A right-to-left override in an id, and an escape in a value a message quotes, are
    escapes in the table, in JSON, in messages and in the HTML report."""
    odd = "e02\u202ecod.exe"
    log = write_log(tmp_path / "bidi.jsonl", [RECORDS[0], {**RECORDS[1], "id": odd},
                                              *RECORDS[2:]])
    table = foedus_cmd("run", FLAGSHIP, log)
    assert table.returncode == 0, errors(table)
    assert "\u202e" not in text(table) and "e02\\u202ecod.exe" in text(table)
    assert "\\u202e" in text(foedus_cmd("run", FLAGSHIP, log, "--format", "json"))
    report = tmp_path / "r.html"
    assert foedus_cmd("report", FLAGSHIP, log, "-o", str(report)).returncode == 0
    page = report.read_text(encoding="utf-8")
    assert "\u202e" not in page and "e02\\u202ecod.exe" in page
    bad = write_log(tmp_path / "value.jsonl", [{**RECORDS[1], "fields": {
        "by": "RU\n\x1b[2J", "place": "Chernihiv_oblast"}}])
    refused = foedus_cmd("run", FLAGSHIP, bad)
    assert refused.returncode == 1
    assert "\x1b" not in errors(refused) and "RU\\n\\x1b[2J" in errors(refused)


# ---------------------------------------------------------------- output


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_output_that_cannot_be_written_is_a_message() -> None:
    """A full disk: one line and exit 1, for text, JSON Lines and a report alike."""
    for args in (["describe", FLAGSHIP], ["run", FLAGSHIP, LOG, "--format", "jsonl"]):
        with open("/dev/full", "wb") as full:
            done = subprocess.run([sys.executable, "-m", "foedus", *map(str, args)],
                                  stdout=full, stderr=subprocess.PIPE, timeout=120, check=False)
        assert done.returncode == 1
        assert done.stderr.decode() == "error: cannot write the output: No space left on " \
            "device\n"


def test_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    """`foedus run ... | head -1`: no traceback when the reader goes away (the verdicts
    are megabytes, far more than a pipe holds)."""
    attack = next(r for r in RECORDS if r["type"] == "armed_attack"
                  and r["fields"]["place"] == "Kyiv_oblast")
    log = write_log(tmp_path / "attacks.jsonl", [*RECORDS, *(
        {**attack, "id": f"a{i:05}", "at": f"2022-10-{2 + i // 1440:02}T{i // 60 % 24:02}:"
         f"{i % 60:02}:00+03:00"} for i in range(20000))])
    assert len(text(foedus_cmd("run", FLAGSHIP, log, "--format", "jsonl"))) > 1 << 20
    process = subprocess.Popen([sys.executable, "-m", "foedus", "run", str(FLAGSHIP), str(log),
                                "--format", "jsonl"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.read(10)
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) in (0, 1)
    assert "Traceback" not in stderr and "Exception" not in stderr
