"""Resolve ``import "file.foedus"`` statements into parsed modules, detecting cycles.

Stage: after ``parser``; its output feeds ``symbols``. Imported files hold shared
declarations only (parties, roles, groups, territories, events, calendars).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

from foedus.diagnostics import Diagnostic, error
from foedus.language import ast
from foedus.language.parser import decode_source, parse

Reader = Callable[[Path], bytes]


def resolve_imports(
    root: ast.Module, base_dir: Path | None, read: Reader, sources: dict[str, str]
) -> tuple[list[ast.Module], list[Diagnostic]]:
    """Return the imported modules (depth first, each once) and the problems found.

    ``sources`` is filled with the text of every file read, for rendering diagnostics.
    """
    modules: list[ast.Module] = []
    diagnostics: list[Diagnostic] = []
    seen: set[Path] = set()

    def visit(module: ast.Module, here: Path | None, stack: tuple[Path, ...]) -> None:
        for stmt in module.statements:
            if not isinstance(stmt, ast.Import):
                continue
            if here is None:
                diagnostics.append(
                    error(
                        "import-without-file",
                        "imports are resolved relative to the importing file, and this "
                        "source has no file",
                        stmt.span,
                    )
                )
                continue
            # Spans name the file as the importer reaches it (relative stays relative);
            # the resolved path only identifies it, for cycles and repeated imports.
            shown = Path(os.path.normpath(here / stmt.path.value))
            try:
                target = shown.resolve()
            except (OSError, RuntimeError) as exc:  # a symbolic link to itself, a long name
                diagnostics.append(
                    error(
                        "import-not-found",
                        f"cannot read imported file `{stmt.path.value}` ({exc})",
                        stmt.path.span,
                        suggestion="paths are relative to the importing file",
                    )
                )
                continue
            if target in stack:
                chain = " -> ".join(p.name for p in (*stack, target))
                diagnostics.append(
                    error(
                        "import-cycle",
                        f"import cycle: {chain}",
                        stmt.path.span,
                        suggestion="move the shared declarations into a file that imports nothing",
                    )
                )
                continue
            if target in seen:
                continue
            try:
                # Only a regular file is read: a pipe would wait for ever, a device
                # may never end. (A file that does not exist is the reader's to refuse.)
                if target.exists() and not target.is_file():
                    kind = "a folder" if target.is_dir() else "not a regular file"
                    raise OSError(errno.EINVAL, f"it is {kind}", str(target))
                data = read(target)
            except OSError as exc:
                diagnostics.append(
                    error(
                        "import-not-found",
                        f"cannot read imported file `{stmt.path.value}` ({exc.strerror or exc})",
                        stmt.path.span,
                        suggestion="paths are relative to the importing file",
                    )
                )
                continue
            seen.add(target)
            name = str(shown)
            text, problems = decode_source(data, name)
            diagnostics.extend(problems)
            if text is None:
                continue
            sources[name] = text
            result = parse(text, name)
            diagnostics.extend(result.diagnostics)
            for inner in result.module.statements:
                if isinstance(inner, ast.ClauseDecl | ast.TreatyHeader):
                    what = "a clause" if isinstance(inner, ast.ClauseDecl) else "a treaty header"
                    diagnostics.append(
                        error(
                            "import-not-declarations",
                            f"an imported file may hold only declarations, not {what}",
                            inner.span,
                            suggestion="keep clauses in the treaty's own file",
                        )
                    )
            visit(result.module, shown.parent, (*stack, target))
            modules.append(result.module)

    start = Path(root.file).resolve() if base_dir is not None else None
    visit(root, base_dir, (start,) if start else ())
    return modules, diagnostics
