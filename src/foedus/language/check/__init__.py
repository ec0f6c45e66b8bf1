"""Checker: parsed modules -> ``model.Treaty``, or every problem found, each with its place.

Stage: after ``parser``; the engine consumes its output. Passes, in order:
``imports`` (read imported files), ``symbols`` (declarations), ``clauses`` (bodies and
sense checks). Within a pass all problems are collected; between passes the checker
goes on as far as it can so that one run reports as much as possible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from foedus.diagnostics import Diagnostic, Span, error, has_errors, sort_key
from foedus.language import ast
from foedus.language import model as m
from foedus.language.check.clauses import check_clauses
from foedus.language.check.deadlines import resolve_conventions
from foedus.language.check.imports import Reader, resolve_imports
from foedus.language.check.symbols import collect_symbols, parse_zone
from foedus.language.parser import decode_source, parse, read_source

__all__ = ["CheckResult", "check_file", "check_module", "check_source"]


@dataclass
class CheckResult:
    """The checked treaty (None when there are errors), the diagnostics, and the source texts."""

    treaty: m.Treaty | None
    diagnostics: list[Diagnostic]
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.treaty is not None


def _read(path: Path) -> bytes:
    return read_source(path)


def check_module(
    module: ast.Module,
    base_dir: Path | None = None,
    read: Reader = _read,
    sources: dict[str, str] | None = None,
) -> tuple[m.Treaty | None, list[Diagnostic]]:
    """Check a parsed module (and its imports) into a treaty."""
    sources = {} if sources is None else sources
    imported, diags = resolve_imports(module, base_dir, read, sources)
    headers = [s for s in module.statements if isinstance(s, ast.TreatyHeader)]
    if not headers:
        diags.append(
            error(
                "missing-treaty",
                "the file does not say which treaty it is",
                Span.point(module.file, 1, 1),
                suggestion='begin the file with `treaty NAME "Title"`',
            )
        )
    for extra in headers[1:]:
        diags.append(
            error(
                "two-treaties",
                "a file holds one treaty; this is a second `treaty` header",
                extra.span,
                notes=(f"the first is on line {headers[0].span.line}",),
            )
        )
    # Only the main file's header counts: an imported file's header is an error already.
    zone = "UTC"
    if headers and headers[0].zone is not None:
        zone = parse_zone(headers[0].zone, diags)
    symbols, symbol_diags = collect_symbols([*imported, module])
    diags.extend(symbol_diags)
    diags.extend(resolve_conventions(symbols, zone))
    clause_decls = [s for s in module.statements if isinstance(s, ast.ClauseDecl)]
    clauses, clause_diags = check_clauses(clause_decls, symbols, zone)
    diags.extend(clause_diags)
    diags.sort(key=sort_key)
    if has_errors(diags) or not headers:
        return None, diags
    header = headers[0]
    treaty = m.Treaty(
        name=header.name.text,
        title=header.title.value if header.title else header.name.text,
        parties=tuple(symbols.parties[k] for k in sorted(symbols.parties)),
        roles=tuple(m.RoleSet(r, symbols.role_members[r]) for r in sorted(symbols.roles)),
        groups=tuple(m.RoleSet(g, symbols.group_members[g]) for g in sorted(symbols.groups)),
        territories=tuple(symbols.territories[t] for t in sorted(symbols.territories)),
        events=tuple(symbols.events[e] for e in sorted(symbols.events)),
        calendars=tuple(symbols.calendars[c] for c in sorted(symbols.calendars)),
        clauses=clauses,
        source=module.file,
        zone=zone,
        conventions=tuple(symbols.conventions[c] for c in sorted(symbols.conventions)),
        states=tuple(symbols.states[k] for k in sorted(symbols.states)),
    )
    return treaty, diags


def check_source(
    text: str, file: str = "<input>", base_dir: Path | None = None, read: Reader = _read
) -> CheckResult:
    """Parse and check source text.

    >>> r = check_source('treaty t "T"\\nrole r\\nparty A role r\\n'
    ...                  'event go(by: party)\\nclause c quote "A shall go" A must not go()')
    >>> r.treaty.clauses[0].kind, r.diagnostics
    (<ClauseKind.PROHIBITION: 'prohibition'>, [])
    """
    sources = {file: text}
    parsed = parse(text, file)
    treaty, diags = check_module(parsed.module, base_dir, read, sources)
    diags = sorted([*parsed.diagnostics, *diags], key=sort_key)
    return CheckResult(None if has_errors(diags) else treaty, diags, sources)


def check_file(path: str | Path, read: Reader = _read) -> CheckResult:
    """Read, parse and check a treaty file; never raises for bad input."""
    path = Path(path)
    name = str(path)
    try:
        data = read(path)
    except OSError as exc:
        return CheckResult(
            None,
            [
                error(
                    "cannot-read",
                    f"cannot read `{name}`: {exc.strerror or exc}",
                    None,
                    context=name,
                )
            ],
        )
    text, problems = decode_source(data, name)
    if text is None:
        # Show the offending line even when the file is not valid UTF-8.
        lossy = problems[0].code == "invalid-utf8"
        return CheckResult(None, problems, {name: data.decode("utf-8", "replace")} if lossy else {})
    return check_source(text, name, path.parent, read)
