"""Seeds and mutators for the command-line fuzz harness (``harness.py``).

Every function takes a ``random.Random`` and nothing else that varies, so a case is the
same bytes whenever it is made from the same seed. Three levels of mutation:

* bytes: flip bits, insert, delete or duplicate chunks, splice two seeds, truncate,
  overwrite with boundary values (for any file, text or binary);
* tokens: numbers, identifiers, strings, dates and durations of a treaty replaced by
  hostile values (5000-digit numbers, folders and 300-character names as zones, markup,
  terminal escapes, control characters, lone surrogates), and imports added;
* structure: JSON Lines records, CSV rows and Arrow tables rebuilt with values and column
  types a log should not have.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

import foedus

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
IMPORTS_SEED = ROOT / "tests" / "language" / "good"

# ---------------------------------------------------------------- hostile values

NUMBERS = [
    "9" * 5000, "1" + "0" * 4300, "1" * 401, "99999999", "99999999999999999999",
    "9223372036854775808", "18446744073709551616", "4294967296", "2147483648", "0", "00",
    "1000000", "86400000000", "36500000",
]  # fmt: skip

ZONES = [
    "Europe", "Europe/", "America", "Etc", "Europe/Kyiv/", "/Europe/Kyiv", "Europe//Kyiv",
    "A" * 300, "Europe/" + "x" * 300, "x" * 5000, "../../etc/passwd", "/etc/localtime",
    "../zoneinfo/UTC", "__init__.py", "zone.tab", "tzdata.zi", "iso3166.tab", "leapseconds",
    "posixrules", "Factory", "Europe/__pycache__", "Etc/GMT+14", "Etc/GMT-15", "UTC\x00",
    "", " ", "utc", "Europe/Kyiv\n", "\x1b[31mUTC", "[/x]",
]  # fmt: skip

CONTROL = [
    "\x0c", "\x0b", "\u2028", "\u2029", "\u0085", "\x1c", "\x1d", "\x1e", "\r", "\r\n",
    "\x00", "\ufeff", "\x7f", "\x9b", "\t",
]  # fmt: skip

STRINGS = [
    *ZONES[:12], "[/x]", "[bold]", "[/]", "[link=file:///etc/passwd]x[/link]", "e17[/x]",
    "\x1b[31mred\x1b[0m", "\x1b]0;title\x07", "\x1b[2J", "\x9b31m", "\ud800", "\udcff",
    "x\\", "é" * 1000, "𝔘𝔄", "İ", "ﬃ", "\u202e", "\u2067", "\u200f", "\u200b",
    "a" * 70000, *CONTROL,
]  # fmt: skip

IDENTIFIERS = [
    "[/x]", "e17[/x]", "[bold]", "x" * 300, "x" * 70000, "é", "ǅ", "_", "__class__", "İ",
    "ﬃ", "𝔘𝔄", "treaty", "clause", "must", "within", "UTC", "a.b", "9abc", "\x1b[31m",
    "a\u2028b", "Ⅻ", "١٢٣",
]  # fmt: skip

DATES = [
    "9999-12-31", "9999-12-30", "0001-01-01", "0001-01-02", "0000-01-01", "2022-02-30",
    "2022-13-01", "10000-01-01", "2022-02-29", "1970-01-01",
]  # fmt: skip

TIMES = [
    "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-14:00",
    "9999-12-30T23:59:59.999999+00:00", "0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z",
    "0001-01-02T00:00:00Z", "11476-01-01T00:00:00Z", "2022-03-29T10:00:00", "2022-03-29",
    "2022-02-30T00:00:00Z", "2022-03-29T24:00:00Z", "2022-03-29T10:00:00+24:00",
    "2022-03-29T10:00:00.1234567890Z", "2022-03-29T10:00:00+03:00:00.5", "", " ", "now",
    "\u2028", "2022-03-29T10:00:00Z\x00", "2022-W13-2T10:00:00Z", "+002022-03-29T10:00:00Z",
    "1e400", "2022-03-29T10:00:00\u2212\u0030\u0033:00", "２０２２-03-29T10:00:00Z",
]  # fmt: skip

AS_OF = [
    "9999-12-31T23:59:59Z", "9999-12-30T23:59:59+00:00", "9999-12-31", "9999-12-30",
    "0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "0001-01-02", "0001-01-01", "now",
    "", " ", "2022-02-30", "2022-10-15T00:00:00", "2022-10-15T00:00:00+24:00",
    "2022-10-15T25:00:00Z", "+002022-10-15", "20221015T000000Z", "2022-W41-1", "2022-288",
    "2022-10-15T00:00:00.1234567Z", "\x1b[31m", "[/x]", "9" * 5000, "1970-01-01T00:00:00Z",
    "2022-10-15T00:00:00+03:00", "2022-10-15T00:00:00-23:59", "2027-01-10", "\u2028",
    "2022-04-01T00:00:00Z",
]  # fmt: skip

MAGIC_BYTES = [
    b"\x00", b"\xff", b"\xef\xbb\xbf", b"\xe2\x80\xa8", b"\xc2\x85", b"\r", b"\x0c", b"\x0b",
    b'"', b"\\", b"\n", b"\x1b[31m", b"[/x]", b"\xed\xa0\x80", b"\xc3", b"\xff\xff\xff\x7f",
    b"\x00\x00\x00\x80", b"\xff\xff\xff\xff\xff\xff\xff\x7f", b"ARROW1", b"PAR1",
]  # fmt: skip

MAX_FILE = 12 * 2**20  # mutations never grow a file past this


class Raw:
    """JSON text written as it is, in place of a value (numbers JSON cannot hold, depth)."""

    def __init__(self, text: str) -> None:
        self.text = text


DEEP = Raw("[" * 100_000 + "]" * 100_000)
JSON_VALUES: list[Any] = [
    None, [], {}, [1], {"a": 1}, True, False, 0, -1, 1.5, 10**400, 2**63, 2**64, -(2**63) - 1,
    float("nan"), float("inf"), Raw("1e400"), Raw("-0"), Raw("1" * 5000), Raw("0.0e-99999"),
    DEEP, Raw("[" * 1000 + "]" * 1000), Raw('{"a":' * 1000 + "1" + "}" * 1000),
]  # fmt: skip


def pick_string(rng: random.Random) -> str:
    return rng.choice(STRINGS)


def pick_json_value(rng: random.Random) -> Any:
    return rng.choice(JSON_VALUES) if rng.random() < 0.5 else pick_string(rng)


# ---------------------------------------------------------------- seeds

GDPR_LOG = [
    {"id": "b1", "at": "2024-05-01T09:00:00+02:00", "type": "breach_aware",
     "fields": {"by": "ACME", "breach": "B-1"}},
    {"id": "b2", "at": "2024-05-02T10:00:00Z", "type": "breach_detected",
     "fields": {"by": "CLOUDCO", "controller": "ACME", "breach": "B-2"}},
    {"id": "n2", "at": "2024-05-02T11:00:00Z", "type": "notification",
     "fields": {"by": "CLOUDCO", "to": "ACME", "breach": "B-2"}},
    {"id": "n1", "at": "2024-05-05T12:00:00Z", "type": "notification",
     "fields": {"by": "ACME", "to": "DPC", "breach": "B-1"}},
    {"id": "d1", "at": "2024-05-06T12:00:00Z", "type": "delay_reasons",
     "fields": {"by": "ACME", "to": "DPC", "breach": "B-1"}},
]  # fmt: skip

LOG_FORMATS = ("jsonl", "csv", "parquet", "arrow")


@dataclass
class Pair:
    """A treaty and a log it can run: the log in every format, and the ids to explain."""

    name: str
    treaty: str
    records: list[dict[str, Any]]
    logs: dict[str, bytes] = field(default_factory=dict)
    table: pa.Table | None = None
    items: list[str] = field(default_factory=list)


@dataclass
class Seeds:
    """What cases are made from: treaty sources (with their imported files) and pairs."""

    treaties: dict[str, str]
    pairs: list[Pair]
    imports_files: dict[str, bytes]  # the files the `imports` seed needs beside it

    def any_source(self, rng: random.Random) -> str:
        return self.treaties[rng.choice(sorted(self.treaties))]


def build_seeds(folder: Path) -> Seeds:
    """Read the examples and write each log in all four formats under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    treaties = {p.stem: p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.foedus"))}
    treaties["imports"] = (IMPORTS_SEED / "imports.foedus").read_text(encoding="utf-8")
    imports_files = {
        f"shared/{p.name}": p.read_bytes() for p in sorted((IMPORTS_SEED / "shared").iterdir())
    }
    logs = {
        "istanbul_2022": _records(EXAMPLES / "istanbul_2022.events.jsonl"),
        "sla": _records(EXAMPLES / "sla.events.jsonl"),
        "gdpr_art33": GDPR_LOG,
    }
    pairs = []
    for name, records in logs.items():
        checked = foedus.check_source(treaties[name], f"{name}.foedus")
        assert checked.treaty is not None, checked.diagnostics
        pair = Pair(name, treaties[name], records)
        jsonl = folder / f"{name}.jsonl"
        jsonl.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        events, _ = foedus.load_events(jsonl, checked.treaty)
        for fmt in LOG_FORMATS:
            path = folder / f"{name}.{fmt}"
            if fmt != "jsonl":
                foedus.write_events(path, events)
            pair.logs[fmt] = path.read_bytes()
        pair.table = pq.read_table(folder / f"{name}.parquet", use_threads=False)
        ids = [str(r["id"]) for r in records]
        clauses = [c.id for c in checked.treaty.clauses]
        run = foedus.run_file_full(checked.treaty, jsonl)
        verdicts = [o.id for o in run.result.obligations] + [d.id for d in run.result.decisions]
        pair.items = [*clauses, *verdicts, *ids]
        pairs.append(pair)
    return Seeds(treaties, pairs, imports_files)


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


# ---------------------------------------------------------------- bytes


def mutate_bytes(rng: random.Random, data: bytes, others: list[bytes] | None = None) -> bytes:
    """One byte-level mutation of ``data``."""
    buf = bytearray(data)
    n = len(buf)
    op = rng.choice(["flip", "flip", "insert", "delete", "dup", "splice", "truncate", "magic"])
    if op == "flip" and n:
        for _ in range(rng.randint(1, 8)):
            buf[rng.randrange(n)] ^= 1 << rng.randrange(8)
    elif op == "insert":
        chunk = (rng.choice(MAGIC_BYTES) if rng.random() < 0.6
                 else rng.randbytes(rng.randint(1, 64)))
        i = rng.randint(0, n)
        buf[i:i] = chunk
    elif op == "delete" and n:
        i = rng.randrange(n)
        del buf[i : i + rng.randint(1, max(1, min(256, n // 4)))]
    elif op == "dup" and n:
        i = rng.randrange(n)
        chunk = bytes(buf[i : i + rng.randint(1, 128)])
        times = rng.choice([1, 2, 10, 1000])
        buf[i:i] = chunk * min(times, max(1, MAX_FILE // (len(chunk) * 2)))
    elif op == "splice" and others:
        other = rng.choice(others)
        buf = buf[: rng.randint(0, n)] + other[rng.randint(0, len(other)) :]
    elif op == "truncate" and n:
        del buf[rng.randrange(n) :]
    elif op == "magic" and n:
        value = rng.choice(MAGIC_BYTES)
        i = rng.randrange(n)
        buf[i : i + len(value)] = value
    return bytes(buf[:MAX_FILE])


def flip_bytes(rng: random.Random, data: bytes, count: int) -> bytes:
    """``count`` bytes set to random values (what breaks binary formats)."""
    buf = bytearray(data)
    for _ in range(count if buf else 0):
        buf[rng.randrange(len(buf))] = rng.randrange(256)
    return bytes(buf)


# ---------------------------------------------------------------- tokens

_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|\w+|\s+|.')
_DURATION = re.compile(r"\b\d+(?=\s+(?:business\s+)?(?:day|hour|minute|week)s?\b)")
_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
_ZONE = re.compile(r'(?:(?<=\bzone )|(?<=\bin ))"[^"\n]*"')


def _replace_match(rng: random.Random, text: str, pattern: re.Pattern[str], value: str) -> str:
    found = list(pattern.finditer(text))
    if not found:
        return text
    m = rng.choice(found)
    return text[: m.start()] + value + text[m.end() :]


def mutate_source(rng: random.Random, text: str, import_targets: list[str]) -> tuple[str, str]:
    """One token-level mutation of a treaty source; returns the text and what was done."""
    tokens = _TOKEN.findall(text)
    op = rng.choice([
        "number", "string", "ident", "control", "control-in-string", "zone", "zone",
        "duration", "duration", "date", "import", "swap", "delete", "dup",
    ])  # fmt: skip
    if op == "number":
        numbers = [i for i, t in enumerate(tokens) if t.isdigit()]
        if numbers:
            tokens[rng.choice(numbers)] = rng.choice(NUMBERS)
    elif op == "string":
        strings = [i for i, t in enumerate(tokens) if t.startswith('"') and len(t) > 1]
        if strings:
            tokens[rng.choice(strings)] = f'"{pick_string(rng)}"'
    elif op == "ident":
        names = [i for i, t in enumerate(tokens) if t[:1].isalpha()]
        if names:
            tokens[rng.choice(names)] = rng.choice(IDENTIFIERS)
    elif op == "control":
        i = rng.randrange(len(tokens) + 1)
        tokens.insert(i, rng.choice(CONTROL))
    elif op == "control-in-string":
        strings = [i for i, t in enumerate(tokens) if t.startswith(('"', "#")) and len(t) > 2]
        if strings:
            i = rng.choice(strings)
            k = rng.randint(1, len(tokens[i]) - 1)
            tokens[i] = tokens[i][:k] + rng.choice(CONTROL) + tokens[i][k:]
    elif op == "zone":
        zone = f'"{rng.choice(ZONES)}"'
        mutated = _replace_match(rng, text, _ZONE, zone)
        if mutated == text:  # no zone yet: give the treaty one
            mutated = re.sub(r'^(treaty \w+ "[^"\n]*")', rf"\1 zone {zone}", text, count=1,
                             flags=re.M)
        return mutated, op
    elif op == "duration":
        return _replace_match(rng, text, _DURATION, rng.choice(NUMBERS)), op
    elif op == "date":
        return _replace_match(rng, text, _DATE, rng.choice(DATES)), op
    elif op == "import":
        target = rng.choice(import_targets)
        lines = text.split("\n")
        lines.insert(rng.randint(0, len(lines)), f'import "{target}"')
        return "\n".join(lines), f"import {target!r}"
    elif op == "swap":
        i, j = rng.randrange(len(tokens)), rng.randrange(len(tokens))
        tokens[i], tokens[j] = tokens[j], tokens[i]
    elif op == "delete" and len(tokens) > 1:
        del tokens[rng.randrange(len(tokens))]
    elif op == "dup":
        i = rng.randrange(len(tokens))
        tokens.insert(i, tokens[i])
    return "".join(tokens), op


def encode(text: str) -> bytes:
    """UTF-8, with lone surrogates written as the (invalid) bytes they stand for."""
    return text.encode("utf-8", "surrogatepass")


def hostile_treaty(rng: random.Random, seeds: Seeds, import_targets: list[str],
                   rounds: tuple[int, int] = (1, 4)) -> tuple[bytes, list[str]]:
    """A seed treaty under a few mutations of tokens and bytes."""
    text = seeds.any_source(rng)
    notes = []
    for _ in range(rng.randint(*rounds)):
        text, op = mutate_source(rng, text, import_targets)
        notes.append(op)
    data = encode(text)
    if rng.random() < 0.3:
        others = [encode(t) for t in seeds.treaties.values()]
        for _ in range(rng.randint(1, 3)):
            data = mutate_bytes(rng, data, others)
        notes.append("bytes")
    if rng.random() < 0.05:
        data = b"\xef\xbb\xbf" + data
        notes.append("bom")
    return data, notes


def semantic_treaty(rng: random.Random, pair: Pair) -> tuple[str, str]:
    """The pair's treaty with one change that may leave it valid (a duration, a zone, a
    date, a number), so that the change reaches the engine."""
    op = rng.choice(["duration", "duration", "zone", "date", "number"])
    if op == "duration":
        value = rng.choice(["99999999", "99999999999999999999", "36500000", "2000000",
                            "3000000", "1000000000", "9" * 5000])
        return _replace_match(rng, pair.treaty, _DURATION, value), f"duration {value[:20]}"
    if op == "zone":
        zone = rng.choice(ZONES)
        text = _replace_match(rng, pair.treaty, _ZONE, f'"{zone}"')
        return text, f"zone {zone[:20]!r}"
    if op == "date":
        return _replace_match(rng, pair.treaty, _DATE, rng.choice(DATES)), "date"
    tokens = _TOKEN.findall(pair.treaty)
    numbers = [i for i, t in enumerate(tokens) if t.isdigit()]
    if numbers:
        tokens[rng.choice(numbers)] = rng.choice(NUMBERS)
    return "".join(tokens), "number"


# ---------------------------------------------------------------- JSON Lines


def _dumps(value: Any, rng: random.Random, ascii_only: bool) -> str:
    raws: dict[str, str] = {}

    def swap(v: Any) -> Any:
        if isinstance(v, Raw):
            key = f"@@RAW{len(raws)}@@"
            raws[f'"{key}"'] = v.text
            return key
        if isinstance(v, dict):
            return {k: swap(x) for k, x in v.items()}
        if isinstance(v, list):
            return [swap(x) for x in v]
        return v

    text = json.dumps(swap(value), ensure_ascii=ascii_only)
    for key, raw in raws.items():
        text = text.replace(key, raw)
    return text


def mutate_jsonl(rng: random.Random, pair: Pair) -> tuple[bytes, list[str]]:
    """The pair's log as JSON Lines with a few records or lines made hostile."""
    records: list[Any] = [dict(r, fields=dict(r.get("fields", {}))) for r in pair.records]
    notes = []
    for _ in range(rng.randint(1, 3)):
        op = rng.choice([
            "id", "id", "at", "at", "type", "field", "field", "top-field", "drop-key",
            "extra-key", "dup-record", "not-object", "first-null", "deep", "big-id",
            "separator",
        ])  # fmt: skip
        i = rng.randrange(len(records))
        rec = records[i]
        if not isinstance(rec, dict):
            continue
        notes.append(op)
        if op == "id":
            choice = rng.random()
            if choice < 0.2:
                other = records[rng.randrange(len(records))]
                rec["id"] = other.get("id", "e1") if isinstance(other, dict) else "e1"
            elif choice < 0.5:
                rec["id"] = pick_json_value(rng)
            else:
                rec["id"] = rng.choice(["e17[/x]", "[bold]", "\x1b[31mred\x1b[0m", "\ud800",
                                        "\udcff", "a\u2028b", "x\x00", "", " ", "\x9b2J",
                                        str(rec.get("id", "")) + pick_string(rng)])
        elif op == "at":
            rec["at"] = rng.choice(TIMES) if rng.random() < 0.7 else pick_json_value(rng)
        elif op == "type":
            rec["type"] = pick_json_value(rng)
        elif op in ("field", "top-field"):
            fields = rec.get("fields")
            if isinstance(fields, dict) and fields:
                name = rng.choice(sorted(fields))
                value = pick_json_value(rng)
                if op == "field":
                    fields[name] = value
                else:
                    del fields[name]
                    rec[name] = value
        elif op == "drop-key":
            keys = sorted(rec)
            if keys:
                del rec[rng.choice(keys)]
        elif op == "extra-key":
            rec[rng.choice(["extra", "fields", "id", "\u2028", "[/x]", "x" * 300])] = (
                pick_json_value(rng))
        elif op == "dup-record":
            records.insert(rng.randint(0, len(records)), dict(rec))
        elif op == "not-object":
            records[i] = rng.choice([None, [], 1, "x", True, Raw("1" * 401), DEEP])
        elif op == "first-null":
            records.insert(0, None)
        elif op == "deep":
            rec[rng.choice(["id", "at", "type", "fields"])] = DEEP
        elif op == "big-id":
            if rng.random() < 0.1:  # rarely: 10 MB, the size that once cost 2.2 GB
                rec["id"] = "x" * 10_000_000
            else:
                rec["id"] = "x" * rng.choice([70_000, 1_000_000])
    ascii_only = rng.random() < 0.3
    lines = [_dumps(r, rng, ascii_only) for r in records]
    if "separator" in notes:
        sep = rng.choice(["\r\n", "\r", "\n\n", "\u2028", "\x0c\n", "\n\x00\n"])
        text = sep.join(lines)
    else:
        text = "\n".join(lines) + ("\n" if rng.random() < 0.9 else "")
    data = encode(text)
    if rng.random() < 0.15:
        data = mutate_bytes(rng, data, [pair.logs["jsonl"]])
        notes.append("bytes")
    return data[:MAX_FILE], notes


# ---------------------------------------------------------------- CSV


def mutate_csv(rng: random.Random, pair: Pair) -> tuple[bytes, list[str]]:
    """The pair's log as CSV with hostile cells, headers, quotes or line ends."""
    rows = list(csv.reader(io.StringIO(pair.logs["csv"].decode("utf-8"), newline="")))
    notes = []
    raw_quote = False
    for _ in range(rng.randint(1, 3)):
        op = rng.choice([
            "cell", "cell", "long-cell", "time", "header-dup", "header-repeat", "header-drop",
            "extra-cells", "short-row", "empty-header", "only-header", "bom", "raw-quote",
            "nul", "newline-in-cell",
        ])  # fmt: skip
        notes.append(op)
        r = rng.randrange(1, len(rows)) if len(rows) > 1 else 0
        row = rows[r]
        c = rng.randrange(len(row)) if row else 0
        if op == "cell" and row:
            row[c] = pick_string(rng)
        elif op == "long-cell" and row:
            row[c] = rng.choice(["x", "\u2028", '"']) * rng.choice([140_000, 131_073])
        elif op == "time" and len(row) > 1:
            row[1] = rng.choice(TIMES)
        elif op == "header-dup" and len(rows[0]) > 1:
            j = rng.randrange(len(rows[0]))
            rows[0][j] = rows[0][(j + 1) % len(rows[0])]
        elif op == "header-repeat":
            rows.insert(rng.randint(1, len(rows)), list(rows[0]))
        elif op == "header-drop" and rows[0]:
            del rows[0][rng.randrange(len(rows[0]))]
        elif op == "extra-cells" and row:
            row.extend(pick_string(rng) for _ in range(rng.randint(1, 3)))
        elif op == "short-row" and row:
            del row[rng.randrange(len(row)) :]
        elif op == "empty-header":
            rows[0] = []
        elif op == "only-header":
            del rows[1:]
        elif op == "bom" and rows[0]:
            rows[0][0] = "\ufeff" + rows[0][0]
        elif op == "raw-quote":
            raw_quote = True
        elif op == "nul" and row:
            row[c] += "\x00"
        elif op == "newline-in-cell" and row:
            row[c] += rng.choice(["\n", "\r", "\r\n", "\u2028", "\u0085"])
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=rng.choice(["\r\n", "\n", "\r"]),
                        quoting=rng.choice([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    writer.writerows(rows)
    text = out.getvalue()
    if raw_quote and text:
        i = rng.randrange(len(text))
        text = text[:i] + '"' + text[i:]
    data = encode(text)
    if rng.random() < 0.15:
        data = mutate_bytes(rng, data, [pair.logs["csv"]])
        notes.append("bytes")
    return data[:MAX_FILE], notes


# ---------------------------------------------------------------- Parquet and Arrow

_Column = Callable[[random.Random, pa.ChunkedArray, int], pa.Array | pa.ChunkedArray]


def _strings(column: pa.ChunkedArray) -> list[str | None]:
    return [None if v is None else str(v) for v in column.to_pylist()]


def _invalid_utf8(n: int) -> pa.Array:
    """A string column whose bytes are not UTF-8 (Arrow does not check them on creation)."""
    return pa.array([b"\xff\xfe" + bytes([65 + i % 26]) for i in range(n)], pa.binary()).view(
        pa.string())


def _valid(text: str) -> str:
    """The text with lone surrogates replaced: what an Arrow string can hold."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _hostile_strings(rng: random.Random, column: pa.ChunkedArray) -> pa.Array:
    values = _strings(column)
    if values:
        values[rng.randrange(len(values))] = _valid(pick_string(rng))
    return pa.array(values, pa.string())


ID_TYPES: dict[str, _Column] = {
    "list": lambda rng, c, n: pa.array([[v] for v in _strings(c)], pa.list_(pa.string())),
    "int": lambda rng, c, n: pa.array(range(n), pa.int64()),
    "binary": lambda rng, c, n: c.cast(pa.binary()),
    "large_string": lambda rng, c, n: c.cast(pa.large_string()),
    "string_view": lambda rng, c, n: c.cast(pa.string_view()),
    "dictionary": lambda rng, c, n: c.dictionary_encode(),
    "nulls": lambda rng, c, n: pa.nulls(n, pa.string()),
    "null-type": lambda rng, c, n: pa.nulls(n),
    "struct": lambda rng, c, n: pa.StructArray.from_arrays([pa.array(_strings(c))], ["x"]),
    "float": lambda rng, c, n: pa.array([float(i) for i in range(n)], pa.float64()),
    "bool": lambda rng, c, n: pa.array([i % 2 == 0 for i in range(n)]),
    "invalid-utf8": lambda rng, c, n: _invalid_utf8(n),
    "hostile": lambda rng, c, n: _hostile_strings(rng, c),
    "duplicates": lambda rng, c, n: pa.array(_strings(c)[:1] * n, pa.string()),
}

_YEAR_11476 = 299_000_000_000  # seconds since 1970


def _at_values(c: pa.ChunkedArray) -> list[int]:
    return [v.value for v in c.cast(pa.timestamp("us", tz="UTC"))]


AT_TYPES: dict[str, _Column] = {
    "int64": lambda rng, c, n: pa.array(_at_values(c), pa.int64()),
    "naive": lambda rng, c, n: c.cast(pa.timestamp("us")),
    "seconds-far": lambda rng, c, n: pa.array(
        [_YEAR_11476 + i for i in range(n)], pa.timestamp("s", tz="UTC")),
    "seconds-max": lambda rng, c, n: pa.array(
        [2**62 + i for i in range(n)], pa.timestamp("s", tz="UTC")),
    "before-year-1": lambda rng, c, n: pa.array(
        [-70_000_000_000_000_000 + i for i in range(n)], pa.timestamp("us", tz="UTC")),
    "ns": lambda rng, c, n: c.cast(pa.timestamp("ns", tz="UTC")),
    "ms-int-min": lambda rng, c, n: pa.array(
        [-(2**63) + 1 + i for i in range(n)], pa.timestamp("ms", tz="UTC")),
    "date32": lambda rng, c, n: pa.array([19000 + i for i in range(n)], pa.date32()),
    "bad-zone": lambda rng, c, n: pa.array(
        _at_values(c), pa.timestamp("us", tz=rng.choice(["Europe", "Mars/Base", "+99:00",
                                                         "x" * 300, "../../etc/passwd"]))),
    "other-zone": lambda rng, c, n: c.cast(pa.timestamp("us", tz="Pacific/Kiritimati")),
    "float": lambda rng, c, n: pa.array([float(v) for v in _at_values(c)], pa.float64()),
    "hostile-text": lambda rng, c, n: pa.array(
        [rng.choice(TIMES) for _ in range(n)], pa.string()),
    "year-0": lambda rng, c, n: pa.array(["0000-01-01T00:00:00Z"] * n, pa.string()),
    "list": lambda rng, c, n: pa.array([[v] for v in _at_values(c)], pa.list_(pa.int64())),
}

FIELD_TYPES: dict[str, _Column] = {
    "binary": lambda rng, c, n: c.cast(pa.binary()) if pa.types.is_string(c.type)
    else pa.array([b"\x00\xff"] * n, pa.binary()),
    "int-huge": lambda rng, c, n: pa.array([2**63 - 1] * n, pa.int64()),
    "uint-huge": lambda rng, c, n: pa.array([2**64 - 1] * n, pa.uint64()),
    "float-odd": lambda rng, c, n: pa.array(
        [rng.choice([float("nan"), float("inf"), -float("inf"), 1e308, -0.0]) for _ in range(n)],
        pa.float64()),
    "decimal": lambda rng, c, n: pa.array([10**37] * n, pa.decimal128(38, 0)),
    "list": lambda rng, c, n: pa.array([["UA"]] * n, pa.list_(pa.string())),
    "struct": lambda rng, c, n: pa.StructArray.from_arrays([pa.array(["UA"] * n)], ["x"]),
    "dictionary": lambda rng, c, n: c.dictionary_encode(),
    "large_string": lambda rng, c, n: c.cast(pa.large_string()),
    "string_view": lambda rng, c, n: c.cast(pa.string_view()),
    "bool": lambda rng, c, n: pa.array([True] * n),
    "invalid-utf8": lambda rng, c, n: _invalid_utf8(n),
    "hostile": lambda rng, c, n: _hostile_strings(rng, c),
    "float16": lambda rng, c, n: pa.array([1.0] * n, pa.float32()).cast(pa.float16()),
    "timestamp": lambda rng, c, n: pa.array([0] * n, pa.timestamp("s", tz="UTC")),
}


def mutate_table(rng: random.Random, table: pa.Table) -> tuple[pa.Table, list[str]]:
    """The table with one or two columns changed, duplicated, dropped or added."""
    names = list(table.column_names)
    columns: list[Any] = list(table.columns)
    n = table.num_rows
    notes = []
    for _ in range(rng.randint(1, 2)):
        op = rng.choice(["id", "id", "type", "at", "at", "field", "field", "dup-column",
                         "drop-column", "extra-column", "rename", "empty"])
        if op == "id" and "id" in names:
            kind = rng.choice(sorted(ID_TYPES))
            k = names.index("id")
            columns[k] = ID_TYPES[kind](rng, columns[k], n)
        elif op == "type" and "type" in names:
            kind = rng.choice(["int", "dictionary", "binary", "hostile", "invalid-utf8",
                               "string_view", "large_string", "null-type"])
            k = names.index("type")
            columns[k] = ID_TYPES[kind](rng, columns[k], n)
        elif op == "at" and "at" in names:
            kind = rng.choice(sorted(AT_TYPES))
            k = names.index("at")
            columns[k] = AT_TYPES[kind](rng, columns[k], n)
        elif op == "field" and len(names) > 3:
            kind = rng.choice(sorted(FIELD_TYPES))
            k = rng.randrange(3, len(names))
            columns[k] = FIELD_TYPES[kind](rng, columns[k], n)
        elif op == "dup-column":
            k = rng.randrange(len(names))
            kind = names[k]
            names.append(names[k])
            columns.append(columns[k])
        elif op == "drop-column" and names:
            k = rng.randrange(len(names))
            kind = names.pop(k)
            columns.pop(k)
        elif op == "extra-column":
            kind = rng.choice(["extra", "[/x]", "\u2028", "fields", "x" * 300, ""])
            names.append(kind)
            columns.append(pa.array([_valid(pick_string(rng))] * n, pa.string()))
        elif op == "rename" and names:
            k = rng.randrange(len(names))
            kind = rng.choice(["ID", "id ", "", "\ufeffid", "at\x00", "type"])
            names[k] = kind
        elif op == "empty":
            kind = ""
            columns = [c.slice(0, 0) for c in columns]
            n = 0
        else:
            continue
        notes.append(f"{op} {kind!r}"[:60])
    lengths = {len(c) for c in columns}
    if len(lengths) > 1:  # an added column of the old length after "empty"
        columns = [c.slice(0, min(lengths)) for c in columns]
    return pa.Table.from_arrays(columns, names), notes


def write_table(rng: random.Random, table: pa.Table, fmt: str) -> bytes:
    """The table as Parquet or as Arrow IPC (file or stream, perhaps compressed)."""
    sink = pa.BufferOutputStream()
    if fmt == "parquet":
        pq.write_table(table, sink, compression=rng.choice(["none", "snappy", "zstd", "gzip"]),
                       row_group_size=rng.choice([None, 1, 2]),
                       use_dictionary=rng.random() < 0.5,
                       write_statistics=rng.random() < 0.5)
    else:
        options = pa.ipc.IpcWriteOptions(compression=rng.choice([None, "lz4", "zstd"]))
        batches = table.to_batches(max_chunksize=rng.choice([None, 1, 2]))
        opener = pa.ipc.new_file if rng.random() < 0.75 else pa.ipc.new_stream
        with opener(sink, table.schema, options=options) as writer:
            for batch in batches:
                writer.write_batch(batch)
    data: bytes = sink.getvalue().to_pybytes()
    return data


def mutate_table_file(rng: random.Random, pair: Pair, fmt: str) -> tuple[bytes, list[str]]:
    """The pair's log as Parquet or Arrow, its table rebuilt, its bytes perhaps flipped."""
    assert pair.table is not None
    notes: list[str] = []
    data = pair.logs[fmt]
    if rng.random() < 0.8:
        try:
            table, notes = mutate_table(rng, pair.table)
            data = write_table(rng, table, fmt)
        except (pa.ArrowException, ValueError, TypeError, OverflowError, IndexError) as exc:
            notes.append(f"unwritable: {type(exc).__name__}")
            data = pair.logs[fmt]
    if rng.random() < 0.3:
        count = rng.choice([1, 2, 5, 5, 8])
        data = flip_bytes(rng, data, count)
        notes.append(f"flip {count}")
    elif rng.random() < 0.1:
        data = mutate_bytes(rng, data, [pair.logs[fmt]])
        notes.append("bytes")
    return data, notes
