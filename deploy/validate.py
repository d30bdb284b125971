"""`python -m deploy.validate [template.yaml]`: Fun's schema check and the house rules, offline.

Exit status 0 when both pass, 1 when the template breaks a rule, 2 when the check itself cannot run
(missing file, malformed YAML, Fun or Node.js not installed).

    $ .venv/bin/python -m deploy.validate template.yaml
    template.yaml: fun validate passed (Runtime python3.10 shown to Fun as python3 in 4 function(s))
    template.yaml: 16 house rules passed
    template.yaml: valid
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from deploy.fun import DEFAULT_FUN, FunResult, RuntimeAlias, fun_readable_copy, run_fun_validate
from deploy.rules import RULES, check_template, declared_env_names
from deploy.template import load_template
from shared.errors import ConfigurationError, Problem


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of both checks on one template."""

    problems: list[Problem]
    fun: FunResult
    runtime_aliases: list[RuntimeAlias] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.fun.ok


def validate(template_path: Path, *, fun: Path = DEFAULT_FUN) -> ValidationReport:
    """Check one template file with the house rules and with `fun validate`.

    Raises ConfigurationError when the file cannot be read or parsed, or when Fun cannot run.

    >>> validate(Path("template.yaml")).ok  # doctest: +SKIP
    True
    """
    template = load_template(template_path)
    problems = check_template(template, env_names=declared_env_names())
    _, aliases = fun_readable_copy(template)
    return ValidationReport(
        problems=problems, fun=run_fun_validate(template, fun=fun), runtime_aliases=aliases
    )


def render(report: ValidationReport, name: str, out: TextIO) -> None:
    """Write the report for people: each broken rule with its field, Fun's own words, a verdict."""
    if report.fun.ok:
        print(f"{name}: fun validate passed{_aliases_note(report.runtime_aliases)}", file=out)
    else:
        print(f"{name}: fun validate failed (exit status {report.fun.returncode}):", file=out)
        for line in report.fun.output.splitlines():
            print(f"  {line}", file=out)
    if report.problems:
        print(f"{name}: {len(report.problems)} house rule problem(s):", file=out)
        for problem in report.problems:
            print(f"  [{problem.rule}] {problem.field}: {problem.message}", file=out)
    else:
        print(f"{name}: {len(RULES)} house rules passed", file=out)
    print(f"{name}: {'valid' if report.ok else 'NOT valid'}", file=out)


def _aliases_note(aliases: Sequence[RuntimeAlias]) -> str:
    counts = Counter((alias.runtime, alias.shown_as) for alias in aliases)
    parts = [
        f"Runtime {runtime} shown to Fun as {shown_as} in {n} function(s)"
        for (runtime, shown_as), n in counts.items()
    ]
    return f" ({'; '.join(parts)})" if parts else ""


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m deploy.validate", description=__doc__.splitlines()[0])
    parser.add_argument("template", nargs="?", default="template.yaml", type=Path)
    parser.add_argument("--fun", type=Path, default=DEFAULT_FUN, help="the `fun` executable to run")
    args = parser.parse_args(argv)
    try:
        report = validate(args.template, fun=args.fun)
    except ConfigurationError as exc:
        print(f"error: {exc}", file=out)
        return 2
    render(report, str(args.template), out)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
