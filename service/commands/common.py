"""Options and helpers every command shares: loading a bundle and reporting its problems."""

from __future__ import annotations

import gc
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

import verifier
from service import progress
from verifier.model.records import DEFAULT_DEPS_FILE
from verifier.model.errors import InputError, NothingToCheck, UnreadableInput
from verifier.gcpause import freezing_after_pauses
from verifier.model.bundle import Bundle, SourceRef

if TYPE_CHECKING:
    from service.truth import Truth

F = TypeVar("F", bound=Callable[..., Any])


# click >= 8.4 makes ParamType generic; subscripting it would fail at run time on the 8.1 floor we support.
class PortParam(click.ParamType):  # type: ignore[type-arg]
    """A port number (1-65535) or a port name (IANA_SVC_NAME: lower-case letters, digits and '-')."""

    name = "port"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int | str:
        text = str(value).strip()
        if text.isdigit():
            number = int(text)
            if 1 <= number <= 65535:
                return number
            self.fail(f"{text} is not a port (1-65535)", param, ctx)
        if re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?", text) and re.search(r"[a-z]", text) and "--" not in text:
            return text
        self.fail(f"{text!r} is neither a port number (1-65535) nor a port name (e.g. http, grpc)", param, ctx)


PORT = PortParam()


def bundle_options(func: F) -> F:
    """PATH... plus --namespace and --strict, the inputs of every analysis command."""
    func = click.option(
        "--strict", is_flag=True,
        help="Treat validation errors as fatal (exit 2) instead of reporting and leaving the object out.",
    )(func)
    func = click.option(
        "-n", "--namespace", "default_namespace", default="default", show_default=True,
        help="Namespace for objects that name none (as kubectl apply -n would).",
    )(func)
    func = click.option(
        "-k", "--kustomize", "kustomize_dirs", multiple=True, metavar="DIR", expose_value=False,
        callback=_remember_kustomize,
        help="A kustomization directory to render with kubectl kustomize (as kubectl -k). A PATH holding a "
             "kustomization.yaml or a Helm Chart.yaml is rendered the same way (helm template).",
    )(func)
    func = click.option(
        "-q", "--quiet", is_flag=True, expose_value=False, callback=_remember_quiet,
        help="No progress line on stderr (it is shown only when stderr is a terminal).",
    )(func)
    func = click.argument("paths", nargs=-1, required=False, metavar="PATH...")(func)
    return func


def _remember_quiet(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    ctx.meta["netreason.quiet"] = value


def _remember_kustomize(ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> None:
    # Kept on the context so every command's load() sees it without a new parameter each.
    ctx.meta["netreason.kustomize"] = list(value)


#: What every exit code of an analysis command means (README and --help say the same).
EXIT_CODES_HELP = (
    "Exit codes: 0 success (allowed / no finding at --fail-on); 1 denied or findings at --fail-on; "
    "2 bad input or configuration (unparseable input, no workloads in the input, an unknown model provider "
    "or missing API key, a chart or kustomization whose renderer is not installed); 3 the model was asked "
    "and failed (the verifier's ground truth is still printed)."
)


def load(paths: Sequence[str], default_namespace: str, strict: bool, quiet: bool = False,
         texts: dict[str, str] | None = None, *, exclude: Sequence[str | None] = (),
         require_workloads: bool = True) -> tuple[Bundle, float]:
    """Load a bundle, print its issues to stderr, return it with the seconds it took.

    Charts and kustomizations are rendered first (`service.sources`); `exclude` names files
    never read as manifests (the --deps and --flows files). `texts`, when given, receives
    every input's text by file name (see `verifier.load_bundle`).

    Raises:
        UnreadableInput: some input could not be parsed (exit 2: it was not all checked).
        NothingToCheck: `require_workloads` and the inputs hold no workload.
        InputError: a path is missing or a renderer is not installed or failed.
    """
    from service.sources import split_sources

    ctx = click.get_current_context(silent=True)
    kustomize = ctx.meta.get("netreason.kustomize", []) if ctx is not None else []
    if not paths and not kustomize:
        raise click.UsageError("give at least one PATH (a file, a directory or - for stdin) or -k DIR")
    start = time.perf_counter()
    if ctx is not None and "netreason.progress" not in ctx.meta:  # one line per command, however many loads
        ctx.meta["netreason.progress"] = progress.start(ctx.meta.get("netreason.quiet", False))
        ctx.call_on_close(progress.stop)
    if ctx is not None:
        keep_out_of_collections(ctx)
    with progress.working("reading manifests") as shown:
        sources = split_sources(list(paths), kustomize)
        bundle = verifier.load_bundle(sources.paths, default_namespace=default_namespace, strict=strict,
                                      stdin=sys.stdin, texts=texts, exclude=[p for p in exclude if p],
                                      rendered=sources.rendered, on_file=lambda _, n: shown.count("reading files", n))
        shown.show(f"loaded {len(bundle.workloads):,} workloads, {len(bundle.policies):,} policies")
    elapsed = time.perf_counter() - start
    if ctx is not None:
        gc.freeze()  # the bundle, and whatever the pauses while loading left in the young generations
    if not quiet:
        report_issues(bundle)
    fail_closed(bundle, [*paths, *kustomize], require_workloads)
    return bundle, elapsed


def keep_out_of_collections(ctx: click.Context) -> None:
    """Spare what the command loads and computes the cyclic collector's scans, until the command ends.

    The bundle (millions of objects on a large cluster), its compiled classes, the findings and the
    documents live until the command ends and hold no garbage, yet each young collection after a pause
    of the collector walked everything the pause allocated, and full collections all of it again: about
    10% of `lint` and 6% of `flows` on the 5,413-pod benchmark. Within the command each pause ends by
    freezing (`freezing_after_pauses`), and `load` freezes the bundle. Frozen objects are still freed by
    reference counting; the command's end unfreezes them (commands run in-process in tests).
    """
    if "netreason.frozen" not in ctx.meta:  # once per command, however many loads
        ctx.meta["netreason.frozen"] = True
        ctx.with_resource(freezing_after_pauses())


def fail_closed(bundle: Bundle, given: Sequence[str], require_workloads: bool) -> None:
    """Stop (exit 2) when some input could not be parsed, or, if required, holds no workload.

    Raises:
        UnreadableInput: a syntax issue in `bundle.issues`.
        NothingToCheck: `require_workloads` and `bundle` has no workload.
    """
    unparsed = [i for i in bundle.issues if i.code == "syntax"]
    if unparsed:
        where = ", ".join(dict.fromkeys(str(i.source) for i in unparsed if i.source))
        raise UnreadableInput(f"could not parse {where}; fix the input (see above): a check that could not read "
                              "all of its input must not pass")
    if require_workloads and not bundle.workloads:
        found = (f"{len(bundle.policies)} NetworkPolicies and {len(bundle.services)} Services but "
                 if bundle.policies or bundle.services else "")
        raise NothingToCheck(f"found {found}no workloads (Pods, Deployments, StatefulSets...) in {', '.join(given)}, "
                             "so there is nothing to check; give the manifests or a kubectl export of the workloads "
                             "too (directories are searched for *.yaml, *.yml and *.json)")


def report_issues(bundle: Bundle) -> None:
    for issue in bundle.issues:
        if issue.severity == "info":
            continue
        left_out = " (left out)" if issue.severity == "error" else ""
        click.echo(f"{issue.severity}: {issue}{left_out}", err=True)


DEFAULT_DEPS_NAME = DEFAULT_DEPS_FILE


def default_deps_path(paths: Sequence[str]) -> Path | None:
    """`netreason.deps.yaml` beside the manifests: in the first PATH if it is a directory, else beside it."""
    for p in paths:
        if p == "-":
            continue
        base = Path(p) if Path(p).is_dir() else Path(p).parent
        candidate = base / DEFAULT_DEPS_NAME
        if candidate.is_file():
            return candidate
    return None


def read_deps_text(paths: Sequence[str], deps_path: str | None) -> tuple[str | None, str | None]:
    """The deps file's text (so issues carry line numbers) and its name, or (None, None).

    Raises:
        InputError: --deps names a file that cannot be read.
    """
    path = Path(deps_path) if deps_path else default_deps_path(paths)
    if path is None:
        return None, None
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except OSError as e:
        raise InputError(f"cannot read dependencies file: {e.strerror}", SourceRef(str(path))) from None


def source_texts(bundle: Bundle) -> dict[str, str]:
    """The text of every file a policy came from (for comments); unreadable files are skipped."""
    texts: dict[str, str] = {}
    for p in bundle.policies:
        name = p.source.file if p.source else None
        if name and name not in texts and name != "-" and Path(name).is_file():
            try:
                texts[name] = Path(name).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
    return texts


def cli_truth(paths: Sequence[str], default_namespace: str, strict: bool, deps_path: str | None,
              flows_path: str | None, *, infer: bool = True, label: str = "", fixes: bool = True) -> Truth:
    """The one truth of the manifests in `paths` (see `service.truth`), as every analysis command builds it."""
    from service.truth import compute_truth

    texts: dict[str, str] = {}
    bundle, _ = load(paths, default_namespace, strict, texts=texts, exclude=[deps_path, flows_path])
    deps_text, origin = read_deps_text(paths, deps_path)
    return compute_truth(bundle, deps=deps_text, deps_origin=origin, observed=read_flows(flows_path), infer=infer,
                         texts=texts, label=label, observed_origin=flows_path, fixes=fixes)


def print_dependency_issues(truth: Truth, prefix: str = "") -> None:
    """Problems with the dependency inputs (unknown workloads in deps, unmatched flows), on stderr."""
    for issue in truth.issues:
        click.echo(f"{prefix}{issue.severity}: {issue}", err=True)


def read_flows(path: str | None) -> str | None:
    """The text of a Hubble flow export (`hubble observe -o json`), if one was given."""
    if not path:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot read flows file: {e.strerror}", SourceRef(path)) from None


def deps_options(func: F) -> F:
    func = click.option("--flows", "flows_path", metavar="FILE",
                        help="Observed flows: a Hubble export (hubble observe -o json).")(func)
    func = click.option("--deps", "deps_path", metavar="FILE",
                        help=f"Declared dependencies (default: {DEFAULT_DEPS_NAME} beside the manifests).")(func)
    return func
