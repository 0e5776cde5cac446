"""The `netreason` command line. Each command lives in `service.commands`."""

from __future__ import annotations

import sys

import click

from verifier.model.errors import NetreasonError

from .lazygroup import LazyGroup

#: Command name -> "module:attribute", imported only when that command runs (or --help lists them),
#: so `netreason check` does not pay for the model, prompt and renderer stacks of `analyze`.
LAZY_COMMANDS = {
    "flows": "service.commands.flows_cmd:flows",
    "check": "service.commands.flows_cmd:check",
    "analyze": "service.commands.analyze_cmd:analyze",
    "ask": "service.commands.analyze_cmd:ask",
    "prompts": "service.commands.prompts_cmd:prompts_group",
    "serve": "service.commands.serve_cmd:serve",
    "lint": "service.commands.lint_cmd:lint",
    "diff": "service.commands.diff_cmd:diff",
    "fix": "service.commands.fix_cmd:fix",
    "plan": "service.commands.plan_cmd:plan",
    "probe": "service.commands.probe_cmd:probe_group",
    "tokens": "service.commands.tokens_cmd:tokens_group",
    "eval": "evals.cli:eval_group",  # evals depends on service, never the reverse: named, not imported
    "completion": "service.commands.completion_cmd:completion",
}


@click.group(cls=LazyGroup, lazy_commands=LAZY_COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="netreason")
def cli() -> None:
    """netreason: which pods can still talk to which under your NetworkPolicies.

    A deterministic NetworkPolicy evaluator is the authority; a language model, when
    configured, explains the flows and every claim it makes is checked.
    """




def kubectl_main() -> None:
    """`kubectl-netreason`: kubectl runs it for `kubectl netreason ...` (a kubectl plugin is any such program on
    PATH)."""
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
