"""Headless Chromium for the report tests: load a page from a file, dump the DOM it built, screenshot it.

Debian's `chromium` package (`.ci/run` installs it). `NETREASON_CHROMIUM` names another binary. Each load
gets a fresh profile directory and no network features, so nothing but the file itself is read.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--disable-extensions", "--mute-audio")


def find_chromium() -> str | None:
    named = os.environ.get("NETREASON_CHROMIUM")
    if named:
        return named
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def require_chromium() -> str:
    """The browser binary; skips the test (naming why and how to get it) when there is none."""
    exe = find_chromium()
    if exe is None:
        pytest.skip("no Chromium on this machine: `apt-get install -y chromium` (what .ci/run does as root) "
                    "or set NETREASON_CHROMIUM to a Chromium/Chrome binary")
    return exe


@dataclass(frozen=True)
class Loaded:
    dom: str
    screenshot: Path


def load(exe: str, page: Path, screenshot: Path, *, width: int = 1400, height: int = 3000,
         timeout_s: float = 120.0) -> Loaded:
    """Open `page` in headless Chromium; return the DOM after load and the screenshot's path.

    Raises:
        AssertionError: Chromium failed or produced no screenshot (with its stderr).
    """
    screenshot.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="netreason-chromium-") as profile:
        cmd = [exe, *FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}",
               f"--screenshot={screenshot}", "--dump-dom", page.resolve().as_uri()]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                              env={**os.environ, "HOME": profile})
    assert done.returncode == 0, f"chromium exited {done.returncode}: {done.stderr[-2000:]}"
    assert screenshot.is_file() and screenshot.stat().st_size > 10_000, f"no screenshot: {done.stderr[-2000:]}"
    return Loaded(done.stdout, screenshot)


def print_pdf(exe: str, page: Path, pdf: Path, *, timeout_s: float = 120.0) -> bytes:
    """`page` printed to PDF by Chromium (the page's print CSS applies); the PDF's bytes."""
    pdf.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="netreason-chromium-") as profile:
        cmd = [exe, *FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={pdf}", "--no-pdf-header-footer",
               page.resolve().as_uri()]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s,
                              env={**os.environ, "HOME": profile})
    assert done.returncode == 0 and pdf.is_file(), f"chromium could not print: {done.stderr[-2000:]}"
    return pdf.read_bytes()


class Dom(HTMLParser):
    """The elements of a dumped DOM as (tag, attributes) in document order, and the text per element kind."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.headings: list[int] = []
        self._stack: list[str] = []
        self.text: list[str] = []
        self.feed(markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}))
        if len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
            self.headings.append(int(tag[1]))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def having(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list[dict[str, str]]:
        """Elements of `tag` (any when None) carrying class `cls` and the given attribute values
        (`data_id="x"` means `data-id="x"`)."""
        want = {k.replace("_", "-"): v for k, v in attrs.items()}
        return [a for t, a in self.elements
                if (tag is None or t == tag) and (cls is None or cls in a.get("class", "").split())
                and all(a.get(k) == v for k, v in want.items())]
