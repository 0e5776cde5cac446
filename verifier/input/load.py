"""Read manifests from files, directories, stdin or strings into a validated Bundle.

This is the only verifier module that touches files or stdin. Parsing is in `parse`,
validation in `validate`, record building in `objects`, assembly in `bundles`.

Error policy: a path that does not exist or cannot be read raises InputError. A file
that is not valid YAML/JSON, or an object that fails API-server validation, becomes an
error Issue in `bundle.issues` and everything else still loads; with `strict=True` the
first syntax error raises ManifestSyntaxError and validation errors raise
ValidationFailed once every document has been checked.
"""

from __future__ import annotations

import itertools
import os
import re
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from typing import Any, TextIO

from ..gcpause import gc_paused
from ..model.bundle import Bundle, Issue, SourceRef
from ..model.errors import InputError, ManifestSyntaxError
from ..model.records import DEPS_FILE_NAMES, looks_like_dependencies
from .assemble import BundleBuilder
from .documents import Document
from .parse import MAX_LIST_DEPTH, list_items, parse_text

#: File name suffixes picked up when a directory is given.
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
#: Files a directory scan leaves alone: netreason's own inputs that live beside manifests
#: (the declared dependencies, `--deps`), not Kubernetes objects.
NOT_MANIFESTS = DEPS_FILE_NAMES
#: Larger files are refused rather than read into memory.
MAX_FILE_BYTES = 256 * 1024 * 1024
#: The SourceRef file name of manifests read from standard input.
STDIN_NAME = "-"


def load_bundle(
    paths: Sequence[str | os.PathLike[str]],
    *,
    default_namespace: str = "default",
    strict: bool = False,
    stdin: TextIO | None = None,
    texts: dict[str, str] | None = None,
    exclude: Collection[str | os.PathLike[str]] = (),
    rendered: Iterable[tuple[str, str]] = (),
    on_file: Callable[[str, int], None] | None = None,
) -> Bundle:
    """Load every manifest under `paths` (then the named `rendered` texts) into one Bundle.

    A path is a file (read whatever its suffix), a directory (searched recursively for
    `*.yaml`, `*.yml` and `*.json`, in sorted order, skipping hidden entries,
    `netreason.deps.yaml` and netreason's own JSON outputs such as `plan.json`) or `-` for
    standard input (`stdin`, or `sys.stdin` when not given). Objects without a namespace
    land in `default_namespace`. Files in `exclude` (netreason's own inputs: the `--deps`
    and `--flows` files) are never read as manifests, even inside a directory given. A
    directory holding a Helm chart (`Chart.yaml`) or a kustomization is refused: its files
    are templates and patches, not manifests (the CLI renders such directories first and
    passes the result as `rendered`). `texts`, when given, receives every input's text by name;
    `on_file(name, n)` hears of the n-th input as it is read (a progress line).

    Raises:
        InputError: a path does not exist, cannot be read, is larger than MAX_FILE_BYTES, or is
            (or holds) a Helm chart or kustomization directory.
        ManifestSyntaxError: strict mode and a file is not valid YAML/JSON.
        ValidationFailed: strict mode and an object fails validation (all errors listed).
    """
    builder = BundleBuilder(default_namespace)
    with gc_paused():
        skip = {os.path.realpath(p) for p in exclude}
        inputs = itertools.chain(_read_inputs(paths, stdin, skip), rendered)
        for n, (name, text) in enumerate(inputs, 1):
            if on_file is not None:
                on_file(name, n)
            if texts is not None and isinstance(text, str):
                texts[name] = text
            _add_text(builder, text, name, strict)
    return builder.finish(strict)


def load_text(text: str, *, name: str = "<input>", default_namespace: str = "default", strict: bool = False) -> Bundle:
    """Load manifests from a string of YAML (one or more documents) or JSON.

    JSON may be one object, a `kind: List`, an array of objects, or several objects in a
    row. `name` is the file name used in SourceRefs and issues.

    Raises:
        ManifestSyntaxError: strict mode and the text is not valid YAML/JSON.
        ValidationFailed: strict mode and an object fails validation.
    """
    return load_texts([(name, text)], default_namespace=default_namespace, strict=strict)


def load_texts(
    texts: Iterable[tuple[str, str]], *, default_namespace: str = "default", strict: bool = False
) -> Bundle:
    """Load several named texts (file name, content) as `load_bundle` loads several files.

    For callers that hold the text already: a git revision, an HTTP request's files.

    Raises:
        ManifestSyntaxError: strict mode and a text is not valid YAML/JSON.
        ValidationFailed: strict mode and an object fails validation.
    """
    builder = BundleBuilder(default_namespace)
    with gc_paused():
        for name, text in texts:
            _add_text(builder, text, name, strict)
    return builder.finish(strict)


def load_documents(
    docs: Iterable[Any], *, name: str = "<input>", default_namespace: str = "default", strict: bool = False
) -> Bundle:
    """Load already-parsed manifest objects (dicts; Lists are expanded).

    SourceRefs carry `name` and the object's position in `docs` as the document index;
    there are no line numbers.

    Raises:
        ValidationFailed: strict mode and an object fails validation.
    """
    builder = BundleBuilder(default_namespace)
    with gc_paused():
        for index, data in enumerate(docs):
            for item in _expand(data):
                builder.add(Document(item, SourceRef(name, 0, index)))
    return builder.finish(strict)


def _expand(data: Any, depth: int = 0) -> Iterator[Any]:
    items = list_items(data)
    if items is None or depth >= MAX_LIST_DEPTH:
        yield data
        return
    for item in items:
        yield from _expand(item, depth + 1)


def _add_text(builder: BundleBuilder, text: str | ManifestSyntaxError, name: str, strict: bool) -> None:
    docs, errors = ([], [text]) if isinstance(text, ManifestSyntaxError) else parse_text(text, name)
    if errors and strict:
        raise errors[0]
    if not errors and looks_like_dependencies([d.data for d in docs]):
        builder.add_issue(Issue(f"a netreason dependencies file (entries with from/to/port, no kind), not manifests: "
                                f"skipped; give it with --deps {name} to check those dependencies",
                                SourceRef(name), severity="warning"))
        return
    for doc in docs:
        builder.add(doc)
    for error in errors:
        builder.add_issue(Issue(error.detail, error.source, code="syntax"))


# --- reading -----------------------------------------------------------------------------


def _read_inputs(
    paths: Sequence[str | os.PathLike[str]], stdin: TextIO | None, skip: set[str] | None = None,
) -> Iterator[tuple[str, str | ManifestSyntaxError]]:
    """(name, text) of every input, in order, each file once (none in `skip`); undecodable text as an error."""
    seen: set[str] = set(skip or ())
    for path in paths:
        raw = os.fspath(path)
        if raw == STDIN_NAME:
            yield STDIN_NAME, (stdin or sys.stdin).read()
            continue
        for file in _manifest_files(raw):
            real = os.path.realpath(file)
            if real not in seen:
                seen.add(real)
                yield file, _read_file(file)


def _manifest_files(path: str) -> list[str]:
    if os.path.isdir(path):
        return list(_walk_directory(path))
    if os.path.exists(path):
        return [path]
    raise InputError("no such file or directory; give a manifest file, a directory of manifests, or - for stdin",
                     SourceRef(path))


def _walk_directory(top: str) -> Iterator[str]:
    for root, dirs, files in os.walk(top, onerror=_raise_walk_error):
        _refuse_rendered_sources(root, files)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for file in sorted(files):
            lower = file.lower()
            path = os.path.join(root, file)
            if (not file.startswith(".") and lower.endswith(MANIFEST_SUFFIXES) and lower not in NOT_MANIFESTS
                    and not (lower.endswith(".json") and _is_netreason_output(path))):
                yield path


#: netreason's own JSON documents (`plan.json`, saved analyses) open with their schema; JSON allows
#: whitespace only before the first key.
_OWN_OUTPUT = re.compile(rb'^\s*\{\s*"schema"\s*:\s*"netreason\.')


def _is_netreason_output(path: str) -> bool:
    """A JSON file netreason wrote (e.g. `netreason plan --out DIR`'s plan.json): a report, not a manifest,
    so scanning the folder it sits in does not flag it as an invalid object."""
    try:
        with open(path, "rb") as f:
            return bool(_OWN_OUTPUT.match(f.read(256)))
    except OSError:
        return False  # reading it for real reports the error with its path


#: Files that make a directory a kustomization (as `kubectl kustomize` looks for them).
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def source_kind(directory: str) -> str | None:
    """"helm" for a Helm chart directory, "kustomize" for a kustomization, else None."""
    if os.path.isfile(os.path.join(directory, "Chart.yaml")):
        return "helm"
    if any(os.path.isfile(os.path.join(directory, name)) for name in KUSTOMIZATION_FILES):
        return "kustomize"
    return None


def _refuse_rendered_sources(root: str, files: list[str]) -> None:
    kind = source_kind(root) if ("Chart.yaml" in files or any(f in KUSTOMIZATION_FILES for f in files)) else None
    if kind == "helm":
        raise InputError("is a Helm chart: its templates are not manifests. Give this directory as its own PATH "
                         "(netreason runs helm template on it), or run: helm template "
                         f"{os.path.basename(os.path.abspath(root))} "
                         f"{root} | netreason ... -", SourceRef(root))
    if kind == "kustomize":
        raise InputError("is a kustomization: its files are bases and patches, not the manifests they build. Give "
                         f"this directory as its own PATH or with -k (netreason runs kubectl kustomize on it), or "
                         f"run: kubectl kustomize {root} | netreason ... -", SourceRef(root))


def _raise_walk_error(error: OSError) -> None:
    raise InputError(f"cannot read directory: {error.strerror}", SourceRef(error.filename or "?"))


def _read_file(path: str) -> str | ManifestSyntaxError:
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise InputError(f"file is {size:,} bytes, over the {MAX_FILE_BYTES:,}-byte limit; split it",
                             SourceRef(path))
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror or exc}", SourceRef(path)) from exc
    return _decode(data, path)


def _decode(data: bytes, path: str) -> str | ManifestSyntaxError:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return ManifestSyntaxError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); save the file as UTF-8",
            SourceRef(path, line),
        )

