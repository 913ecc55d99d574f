"""Every `swarmops ...` and `make ...` command in the README's (and the CLI docs') code blocks still
parses: the command path exists, `--help` works, and its options and arguments are accepted."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from .conftest import REPO

pytestmark = pytest.mark.unit

DOCS = [REPO / "README.md", REPO / "docs" / "cli.md", REPO / "docs" / "install.md",
        REPO / "docs" / "reproducibility.md"]
SHELL_OPERATORS = {"|", "||", "&&", ";", ">", ">>", "<", "&"}


def code_block_lines(path: Path) -> list[str]:
    """Lines of the ```bash / ```sh / ``` code blocks of a Markdown file."""
    lines, fence = [], None  # fence: the language of the open block, None outside blocks
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            fence = None if fence is not None else line[3:].strip()
        elif fence in ("bash", "sh", "console", "") and line.strip():
            lines.append(line)
    return lines


def commands(prog: str) -> list[tuple[str, list[str]]]:
    """(source line, argv after ``prog``) for every invocation of ``prog`` in the documents."""
    found = []
    for doc in DOCS:
        if not doc.exists():
            continue
        for line in code_block_lines(doc):
            tokens = shlex.split(line, comments=True)
            for i, token in enumerate(tokens):
                if token == prog or token.endswith(f"/bin/{prog}"):
                    argv = []
                    for arg in tokens[i + 1:]:
                        if arg in SHELL_OPERATORS:
                            break
                        argv.append(arg)
                    found.append((line.strip(), argv))
    return found


SWARMOPS_COMMANDS = commands("swarmops")


def test_the_readme_shows_swarmops_commands() -> None:
    assert len(SWARMOPS_COMMANDS) >= 8
    first_block = code_block_lines(REPO / "README.md")[:2]
    assert [line.split()[:2] for line in first_block] == [["make", "run"], ["make", "test"]]


def _resolve(argv: list[str]):  # noqa: ANN202 - typer's command objects
    """The command object that ``argv`` names, the path to it and the remaining arguments."""
    import typer.main

    from swarmops.cli import app

    cmd = typer.main.get_command(app)
    path = ["swarmops"]
    rest = list(argv)
    while rest and hasattr(cmd, "commands") and rest[0] in cmd.commands:
        path.append(rest[0])
        cmd = cmd.commands[rest.pop(0)]
    return cmd, path, rest


@pytest.mark.parametrize("line, argv", SWARMOPS_COMMANDS, ids=[c[0][:60] for c in SWARMOPS_COMMANDS])
def test_each_documented_swarmops_command_parses(line: str, argv: list[str]) -> None:
    from typer.testing import CliRunner

    from swarmops.cli import app

    cmd, path, rest = _resolve(argv)
    if argv and argv[0].startswith("--"):  # options of swarmops itself (--version, --install-completion)
        assert argv[0] in {"--version", "--install-completion", "--show-completion", "--help"}, line
        return
    assert not hasattr(cmd, "commands"), f"{line}: {' '.join(path)} needs a sub-command"
    result = CliRunner().invoke(app, [*path[1:], "--help"])
    assert result.exit_code == 0, f"{line}: {result.output}"
    ctx = cmd.make_context(" ".join(path), list(rest))  # parses and converts, runs nothing
    assert ctx.params is not None, line


def test_each_documented_make_target_exists() -> None:
    targets = set(re.findall(r"^([a-z][a-z-]*):", (REPO / "Makefile").read_text(), re.M))
    for line, argv in commands("make"):
        for arg in argv:
            if "=" in arg or arg.startswith("-"):
                continue  # a variable (ENV=staging) or a make flag
            assert arg in targets, f"{line}: no make target {arg!r}"


def test_every_relative_link_of_the_readme_and_docs_resolves() -> None:
    broken = []
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for target in re.findall(r"!?\[[^\]]*\]\(([^)\s]+)\)", doc.read_text()):
            if re.match(r"^(https?:|mailto:|#)", target):
                continue
            if not (doc.parent / target.split("#")[0]).exists():
                broken.append(f"{doc.relative_to(REPO)} -> {target}")
    assert not broken, broken
