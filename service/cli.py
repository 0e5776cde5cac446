"""The `netreason` command line. Each command lives in `service.commands`."""

from __future__ import annotations

import sys

import click

from verifier.errors import NetreasonError

from .commands.analyze_cmd import analyze, ask
from .commands.completion_cmd import completion
from .commands.flows_cmd import check, flows
from .commands.diff_cmd import diff
from .commands.eval_cmd import eval_group
from .commands.lint_cmd import lint
from .commands.prompts_cmd import prompts_group
from .commands.serve_cmd import serve


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="netreason")
def cli() -> None:
    """netreason: which pods can still talk to which under your NetworkPolicies.

    A deterministic NetworkPolicy evaluator is the authority; a language model, when
    configured, explains the flows and every claim it makes is checked.
    """


cli.add_command(flows)
cli.add_command(check)
cli.add_command(analyze)
cli.add_command(ask)
cli.add_command(prompts_group)
cli.add_command(serve)
cli.add_command(lint)
cli.add_command(diff)
cli.add_command(eval_group)
cli.add_command(completion)


def kubectl_main() -> None:
    """`kubectl-netreason`: kubectl runs it for `kubectl netreason ...` (a kubectl plugin is any such program on PATH)."""
    main(prog_name="kubectl netreason")


def main(prog_name: str | None = None) -> None:
    """Console entry point: user errors print as one message and exit 2, no traceback."""
    try:
        cli.main(prog_name=prog_name, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.exceptions.ClickException as e:
        e.show()
        sys.exit(2 if e.exit_code == 1 or isinstance(e, click.UsageError) else e.exit_code)
    except NetreasonError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
