"""The page skeleton of every report: head, style, headings, tables and badges.

Every helper escapes what it is given unless its name says the input is already HTML (`*_html`).
Colour is never the only signal: each badge carries its word (and a symbol) beside its colour.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

#: No script, no network: what a signed link serves can do nothing but show itself.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

CSS = """
:root{--ink:#1b1f24;--muted:#57606a;--line:#d0d7de;--soft:#f6f8fa;--ok:#1a7f37;--ok-bg:#dafbe1;
--bad:#cf222e;--bad-bg:#ffebe9;--warn:#9a6700;--warn-bg:#fff8c5;--info:#0969da;--info-bg:#ddf4ff}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:var(--ink);background:#fff}
main{max-width:1400px;margin:0 auto;padding:1.5rem 2rem 3rem}
h1{font-size:1.5rem;margin:.2rem 0 .6rem}h2{font-size:1.2rem;margin:2rem 0 .6rem;padding-bottom:.3rem;
border-bottom:1px solid var(--line)}h3{font-size:1rem;margin:1.2rem 0 .4rem}
.meta{color:var(--muted);margin:.2rem 0}
.answer{display:grid;grid-template-columns:1fr;gap:1rem;margin:1rem 0}
.answer.with-model{grid-template-columns:1fr 1fr}
.box{border:1px solid var(--line);border-radius:6px;padding:.8rem 1rem;background:#fff}
.box h2{margin-top:0;border:0}
.headline{font-size:1.05rem;margin:.2rem 0 .6rem}.headline li{margin:.15rem 0}
.unchecked{border-left:4px solid var(--warn);background:var(--warn-bg);padding:.5rem .8rem;white-space:pre-wrap}
.unchecked-label{font-weight:600;color:var(--warn)}
.failed{border-left:4px solid var(--bad);background:var(--bad-bg);padding:.5rem .8rem}
table{border-collapse:collapse;width:100%;margin:.3rem 0 .8rem}
th,td{border-bottom:1px solid #eaeef2;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}
table.deps td:nth-child(5){max-width:16rem;font-size:.9em}table.deps td:last-child{width:42%}
caption{text-align:left;color:var(--muted);padding:.2rem 0}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em}
pre.yaml{background:var(--soft);border:1px solid var(--line);padding:.5rem;border-radius:4px;overflow-x:auto;
margin:.3rem 0;user-select:all;white-space:pre}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:1rem;font-weight:600;font-size:.85em;
white-space:nowrap;border:1px solid currentColor}
.b-ok{color:var(--ok);background:var(--ok-bg)}.b-bad{color:var(--bad);background:var(--bad-bg)}
.b-warn{color:var(--warn);background:var(--warn-bg)}.b-info{color:var(--info);background:var(--info-bg)}
.b-none{color:var(--muted);background:var(--soft)}
ul.why{margin:0;padding:0;list-style:none}ul.why li{margin:.05rem 0}
ul.why .d1{padding-left:1rem}ul.why .d2{padding-left:2rem}ul.why .d3{padding-left:3rem}
.bar{display:inline-block;width:6rem;height:.6rem;background:#eaeef2;border-radius:3px;vertical-align:middle;
margin-right:.4rem;overflow:hidden}.bar span{display:block;height:100%;background:var(--ok)}
.map{border:1px solid var(--line);border-radius:6px;padding:.5rem;overflow-x:auto;background:#fff}
.map svg{display:block;max-width:100%;height:auto;margin:0 auto}
.legend{display:flex;flex-wrap:wrap;gap:1.2rem;color:var(--muted);margin:.4rem 0;font-size:.9em}
.legend svg{vertical-align:middle;margin-right:.3rem}
.pair{margin-bottom:.6rem}.muted{color:var(--muted)}
footer{margin-top:2.5rem;color:var(--muted);font-size:.85em;border-top:1px solid var(--line);padding-top:.5rem}
@media (max-width:900px){.answer.with-model{grid-template-columns:1fr}}
@page{size:A4 landscape;margin:12mm}
@media print{body{font-size:10pt}main{max-width:none;padding:0}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
h2{break-after:avoid}tr,.box,.map,pre.yaml{break-inside:avoid}thead{display:table-header-group}
.map{overflow:visible}pre.yaml{white-space:pre-wrap}}
"""


def esc(value: object) -> str:
    """Text as HTML, quotes included (safe in element content and in attribute values)."""
    return html.escape(str(value), quote=True)


def page(title: str, body_html: str, *, footer: str = "", css: str = "") -> str:
    """A whole document: doctype, CSP, one style element (the page's and `css`), `<main>` holding
    `body_html` (already HTML)."""
    foot = f"<footer>{esc(footer)}</footer>" if footer else ""
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{esc(title)}</title><style>{CSS}{css}</style></head>"
            f"<body><main>{body_html}{foot}</main></body></html>\n")


def section(heading: str, body_html: str, *, level: int = 2, ident: str | None = None) -> str:
    """A titled part of the page; the heading is escaped, the body is HTML."""
    anchor = f" id='{esc(ident)}'" if ident else ""
    return f"<section{anchor}><h{level}>{esc(heading)}</h{level}>{body_html}</section>"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, caption: str = "",
          numeric: Sequence[int] = (), row_attrs: Sequence[dict[str, str]] = ()) -> str:
    """A table with a header row (`<th scope=col>`); `rows` hold already-escaped cell HTML, and
    `row_attrs[i]` the attributes of row i (escaped here)."""
    def cls(i: int) -> str:
        return " class='num'" if i in numeric else ""

    head = "".join(f"<th scope='col'{cls(i)}>{esc(h)}</th>" for i, h in enumerate(headers))
    body = "".join(_tr(row_attrs[n] if n < len(row_attrs) else {})
                   + "".join(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(row)) + "</tr>"
                   for n, row in enumerate(rows))
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _tr(attrs: dict[str, str]) -> str:
    return "<tr" + "".join(f" {k}='{esc(v)}'" for k, v in attrs.items()) + ">"


#: Badge tone and symbol per word: the word is always printed, so colour is never the only signal.
TONES = {
    "confirmed": ("b-ok", "✓"), "contradicted": ("b-bad", "✗"), "unverifiable": ("b-warn", "?"),
    "unparseable": ("b-warn", "⚠"),
    "allowed": ("b-ok", "✓"), "broken": ("b-bad", "✗"), "denied": ("b-bad", "✗"),
    "error": ("b-bad", "!"), "warning": ("b-warn", "!"), "info": ("b-info", "i"),
    "added": ("b-ok", "+"), "removed": ("b-bad", "−"), "fixed": ("b-ok", "✓"),
    "missed": ("b-warn", "…"), "yes": ("b-ok", "✓"), "no": ("b-bad", "✗"), "partial": ("b-warn", "◐"),
    "not checked": ("b-warn", "!"), "simulated": ("b-info", "~"),
    "verified": ("b-ok", "✓"), "not verified": ("b-bad", "✗"),
    "clean": ("b-ok", "✓"), "breaks dependencies": ("b-bad", "✗"), "introduces findings": ("b-warn", "!"),
}


def badge(word: str, *, tone: str | None = None) -> str:
    """A coloured pill with a symbol and `word`, e.g. `✗ contradicted`."""
    cls, mark = TONES.get(word, ("b-none", "•"))
    return f"<span class='badge {tone or cls}' data-verdict='{esc(word)}'>{mark} {esc(word)}</span>"


def code(text: object) -> str:
    return f"<code>{esc(text)}</code>"


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def why_lines(text: str) -> str:
    """A multi-line explanation as a list, one item per line, its indentation kept as a nesting level."""
    lines = [line for line in str(text).splitlines() if line.strip()]
    if not lines:
        return ""
    levels = sorted({_indent(line) for line in lines})
    items = "".join(f"<li class='d{min(levels.index(_indent(line)), 3)}'>{esc(line.strip())}</li>" for line in lines)
    return f"<ul class='why'>{items}</ul>"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))
