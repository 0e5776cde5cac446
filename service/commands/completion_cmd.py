"""`netreason completion bash|zsh|fish`: the shell completion script, from click's own completion support."""

from __future__ import annotations

import click

SHELLS = ("bash", "zsh", "fish")
#: The variable click's completion scripts set when they ask the program for candidates.
COMPLETE_VAR = "_NETREASON_COMPLETE"


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
@click.pass_context
def completion(ctx: click.Context, shell: str) -> None:
    """Print the completion script for SHELL: commands, options and their choices.

    \b
    Load it now, or for every new shell:
      source <(netreason completion bash)          # bash; or >> ~/.bashrc
      netreason completion zsh > "${fpath[1]}/_netreason"   # zsh (or eval it in ~/.zshrc)
      netreason completion fish > ~/.config/fish/completions/netreason.fish
    """
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    assert cls is not None  # click ships all three
    root = ctx.find_root().command
    click.echo(cls(root, {}, "netreason", COMPLETE_VAR).source())
