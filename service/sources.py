"""Inputs that must be rendered before they are manifests: Helm charts and kustomizations.

A chart directory (`Chart.yaml`) runs `helm template NAME DIR`; a kustomization directory
(`kustomization.yaml`, or any directory given with `-k`) runs `kubectl kustomize DIR`
(or `kustomize build DIR`). When the tool is not on PATH the command stops (exit 2) and
prints the exact command to run instead: reading the raw templates would check nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from verifier.model.errors import InputError
from verifier.input.load import source_kind
from verifier.model.bundle import SourceRef

#: Seconds a renderer may run before the input is declared unreadable.
RENDER_TIMEOUT_S = 120


class RendererMissing(InputError):
    """A chart or kustomization was given and the tool that renders it is not installed."""


@dataclass(frozen=True)
class Sources:
    """Paths to read as manifests, and (name, text) of what was rendered."""

    paths: list[str]
    rendered: list[tuple[str, str]]


def split_sources(paths: Sequence[str], kustomize: Sequence[str] = ()) -> Sources:
    """Render every chart or kustomization PATH (and every `-k DIR`); keep the rest as paths.

    Raises:
        RendererMissing: helm / kubectl (and kustomize) are not on PATH; the message has the command.
        InputError: the renderer failed (its error output is quoted) or a -k DIR is no directory.
    """
    plain: list[str] = []
    rendered: list[tuple[str, str]] = []
    for path in paths:
        kind = source_kind(path) if path != "-" and os.path.isdir(path) else None
        if kind is None:
            plain.append(path)
        else:
            rendered.append(render(path, kind))
    for directory in kustomize:
        if not os.path.isdir(directory):
            raise InputError("-k needs a kustomization directory", SourceRef(directory))
        rendered.append(render(directory, "kustomize"))
    return Sources(plain, rendered)


def render_command(directory: str, kind: str) -> list[str]:
    """The command that renders `directory` (the one to suggest when no tool is installed)."""
    if kind == "helm":
        return ["helm", "template", os.path.basename(os.path.abspath(directory)), directory]
    if shutil.which("kubectl") or not shutil.which("kustomize"):
        return ["kubectl", "kustomize", directory]
    return ["kustomize", "build", directory]


def render(directory: str, kind: str) -> tuple[str, str]:
    """(name, manifests text) of a chart or kustomization, named `DIR (helm template)` in issues.

    Raises:
        RendererMissing: the tool is not on PATH.
        InputError: the tool failed or timed out.
    """
    command = render_command(directory, kind)
    shown = " ".join(command)
    if shutil.which(command[0]) is None:
        what = "a Helm chart" if kind == "helm" else "a kustomization"
        raise RendererMissing(f"is {what} and {command[0]} is not on PATH; install it, or render the directory "
                              f"yourself and pipe it in: {shown} | netreason <command> -", SourceRef(directory))
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=RENDER_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise InputError(f"`{shown}` did not finish in {RENDER_TIMEOUT_S} s", SourceRef(directory)) from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip()[-2000:]
        raise InputError(f"`{shown}` failed (exit {done.returncode}): {tail}", SourceRef(directory))
    return f"{directory} ({command[0]} {command[1]})", done.stdout
