"""`netreason prompts list|show|render`: look at the prompt library and what a model would see."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click
import yaml

from verifier.model.errors import InputError, NetreasonError

if TYPE_CHECKING:  # prompts.library imports langchain_core (~0.5 s): only commands that render pay for it
    from prompts.library import PromptSpec, RenderedPrompt

F = TypeVar("F", bound=Callable[..., Any])


def _friendly_errors(func: F) -> F:
    """Print a NetreasonError's message without a traceback and exit 2 (house CLI rule)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except NetreasonError as exc:
            click.echo(f"error: {exc}", err=True)
            raise SystemExit(2) from None

    return cast(F, wrapper)  # functools.wraps keeps func's signature, which mypy cannot follow


@click.group("prompts")
def prompts_group() -> None:
    """The versioned prompt library."""


@prompts_group.command("list")
@_friendly_errors
def list_cmd() -> None:
    """List every prompt version with its variables."""
    from prompts.library import list_prompts

    for spec in list_prompts():
        click.echo(f"{spec.ref:<12} {spec.schema_name:<12} {', '.join(spec.variables):<40} {spec.description}")


@prompts_group.command("show")
@click.argument("ref")
@click.option("--schema", is_flag=True, help="Also print the answer's JSON schema.")
@_friendly_errors
def show_cmd(ref: str, schema: bool) -> None:
    """Show prompt REF (NAME or NAME@VERSION): variables and templates."""
    from prompts.library import load_prompt

    spec = load_prompt(ref)
    click.echo(_describe(spec))
    if schema:
        click.echo("\n## answer schema\n" + json.dumps(spec.json_schema, indent=2))


def _describe(spec: PromptSpec) -> str:
    lines = [f"# {spec.ref}: {spec.description}", f"file: {spec.path}", f"answer schema: {spec.schema_name}"]
    lines.append(f"few-shot examples: {spec.examples}")
    lines.append("variables:")
    for name, var in spec.variables.items():
        default = f" (default: {var.default})" if var.default is not None else ""
        lines.append(f"  {name}: {var.description}{default}")
    lines += ["", "## system", spec.system, "", "## user", spec.user]
    return "\n".join(lines)


@prompts_group.command("render")
@click.argument("ref")
@click.option("--bundle", "bundle_paths", multiple=True, required=True, type=click.Path(exists=True),
              help="Manifest file or directory (repeatable).")
@click.option("--deps", "deps_path", type=click.Path(exists=True, dir_okay=False),
              help="YAML list of dependencies (from, to, port, protocol[, namespace, source]).")
@click.option("--namespace", "default_namespace", default="default", show_default=True,
              help="Namespace of objects that name none.")
@click.option("--var", "pairs", multiple=True, metavar="NAME=VALUE", help="Another prompt variable (repeatable).")
@click.option("--anonymize", is_flag=True, help="Pseudonymize names and labels in the prompt.")
@click.option("--json", "as_json", is_flag=True, help="Print the rendered prompt as JSON.")
@_friendly_errors
def render_cmd(
    ref: str, bundle_paths: tuple[str, ...], deps_path: str | None, default_namespace: str,
    pairs: tuple[str, ...], anonymize: bool, as_json: bool,
) -> None:
    """Render prompt REF for a bundle of manifests, exactly as a model would get it."""
    from service.prompting import prepare_prompt
    from verifier.input.load import load_bundle

    bundle = load_bundle(list(bundle_paths), default_namespace=default_namespace)
    deps = _read_deps(Path(deps_path)) if deps_path else []
    prepared = prepare_prompt(ref, bundle, deps, anonymize=anonymize, **_parse_vars(pairs))
    if as_json:
        data = prepared.rendered.to_dict()
        if prepared.pseudonyms is not None:
            data["pseudonyms"] = prepared.pseudonyms.to_dict()
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(_as_text(prepared.rendered))


def _parse_vars(pairs: tuple[str, ...]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InputError(f"--var {pair!r}: expected NAME=VALUE")
        values[name] = value
    return values


def _read_deps(path: Path) -> list[dict[str, Any]]:
    """Dependency records from a YAML list (the corpus `deps.yaml` format works as is)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read dependencies: {exc}") from None
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        raise InputError("expected a YAML list of mappings (from, to, port, protocol)", source=None,
                         field_path=str(path))
    return data


def _as_text(rendered: RenderedPrompt) -> str:
    parts = [f"# {rendered.ref} (answer schema {rendered.schema_name})", "", "## system", rendered.system]
    parts += [f"\n## {m['role']}\n{m['content']}" for m in rendered.messages]
    return "\n".join(parts)
