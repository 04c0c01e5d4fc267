"""``examples.html``: wrong responses token by token, shaded by each algorithm's blame.

Self-contained (inline CSS, no script, no network), so it opens anywhere and renders the same in
a headless browser.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

EXAMPLES = 20

_CSS = """
body { font-family: sans-serif; margin: 24px; color: #222; max-width: 1400px; }
h1 { font-size: 20px; } h2 { font-size: 15px; margin: 22px 0 4px; }
table { border-collapse: collapse; } td { padding: 2px 8px 2px 0; vertical-align: top; }
td.name { font: 12px monospace; color: #555; white-space: nowrap; }
.tok { font: 14px monospace; white-space: pre; padding: 1px 0; }
.err { outline: 2px solid #1a4fd0; outline-offset: 1px; }
.meta { font-size: 12px; color: #555; }
.legend span { font: 13px monospace; padding: 2px 6px; }
"""


def _shade(credit: float, lo: float, hi: float) -> str:
    """Red for negative credit (blame), green for positive. Within a line the lightest shade is
    its smallest non-zero |credit| and the darkest its largest, so a ±10% modulation shows;
    a line with one magnitude (GRPO) is uniformly dark."""
    if credit == 0:
        return "transparent"
    level = 1.0 if hi <= lo else (abs(credit) - lo) / (hi - lo)
    alpha = 0.15 + 0.7 * level
    rgb = "214,39,40" if credit < 0 else "44,160,44"
    return f"rgba({rgb},{alpha:.3f})"


def _row(tokens: list[str], labels: list[int], credit: list[float]) -> str:
    sizes = [abs(c) for c in credit if c != 0]
    lo, hi = (min(sizes), max(sizes)) if sizes else (0.0, 0.0)
    cells, in_error = [], False
    for tok, label, c in zip(tokens, labels, credit, strict=True):
        if (label == 0) != in_error:  # one outline around the whole first wrong step
            cells.append("<span class='err'>" if not in_error else "</span>")
            in_error = not in_error
        text = html.escape(tok) if tok else "⏎"
        shade = _shade(c, lo, hi)
        cells.append(f'<span class="tok" title="{c:+.4g}" style="background:{shade}">{text}</span>')
    if in_error:
        cells.append("</span>")
    return "".join(cells)


def pick_examples(records: list[dict[str, Any]], n: int = EXAMPLES) -> list[dict[str, Any]]:
    """The first wrong response of each group that has a correct sibling (so GRPO's A ≠ 0) and
    a located first error after a correct prefix, up to ``n``."""
    chosen, seen = [], set()
    for r in records:
        if r["group"] in seen or r["correct"] or r["category"] != "wrong":
            continue
        if r["advantage"] == 0 or 1 not in r["labels"] or 0 not in r["labels"]:
            continue
        seen.add(r["group"])
        chosen.append(r)
        if len(chosen) == n:
            break
    return chosen


def write_examples(path: Path, records: list[dict[str, Any]], algorithms: list[str]) -> None:
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>creditzoo credit audit</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Where does each algorithm put the blame?</h1>",
        "<p class='legend'>Each line is one algorithm's per-token credit on the same response: "
        f"<span style='background:{_shade(-1, 0, 1)}'>blamed</span> "
        f"<span style='background:{_shade(1, 0, 1)}'>credited</span>, from the line's smallest "
        "|credit| (light) to its largest (dark), so GRPO's uniform blame is one solid shade; "
        "the first wrong step is <span class='err'>outlined</span>. Hover a token for its "
        "credit. A blank line has no per-token advantage: the method's signal is a distillation "
        "loss component (opsd, sdpo, srpo; the audit's realised-change table covers those).</p>",
    ]
    for r in pick_examples(records):
        parts.append(
            f"<h2>{html.escape(r['problem'])} — reference {html.escape(r['reference'])}</h2>"
            f"<div class='meta'>{html.escape(r['uid'])}: first error at step {r['first_error']} "
            f"({html.escape(str(r['error_kind']))}), outcome advantage {r['advantage']:+.3f}</div>"
            "<table>"
        )
        for name in algorithms:
            parts.append(
                f"<tr><td class='name'>{html.escape(name)}</td>"
                f"<td>{_row(r['tokens'], r['labels'], r['credit'][name])}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>\n")
    path.write_text("".join(parts))
