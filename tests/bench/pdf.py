"""Invoice PDF throughput: our renderer against a plain WeasyPrint call. Not a test.

    .venv/bin/python -m tests.bench.pdf [N]     (make bench runs it too)

Figures for the same invoice (ten lines, two pages), side by side:
- per core: renders per CPU-second of this process (time.process_time), ours and plain,
  the figure that other processes on a shared machine disturb least; and renders per
  wall-clock second, which they do;
- ours: render_invoice (pre-subset bundled font subset with HarfBuzz, font configuration
  and stylesheet reused across renders; vault/pdf.py has the profile);
- plain: `weasyprint.HTML(string=...).write_pdf()`, same HTML and CSS (inlined) but the
  default sans-serif family (DejaVu Sans from the system) and nothing reused: a new
  FontConfiguration and the stylesheet parsed on every call;
- pool: PdfRenderer with 2 worker processes (what the service runs), renders/second.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from vault.pdf import (
    TEMPLATES,
    InvoiceSnapshot,
    LineSnapshot,
    Party,
    PdfRenderer,
    _import_weasyprint,
    render_invoice,
)
from vault.pdf_html import invoice_html

WORKERS = 2


def sample_invoice() -> InvoiceSnapshot:
    lines = tuple(
        LineSnapshot(f"Service package {i} – Łódź depot, façade work", Decimal(3),
                     Decimal("12.50"), Decimal(19 if i % 2 else 7), Decimal("37.50"))
        for i in range(10)
    )
    return InvoiceSnapshot(
        seller=Party("Northwind Supply Co.", "1 Harbour Road\nBristol BS1 4ST", "GB123456789"),
        buyer=Party("Müller & Söhne GmbH", "Königstraße 1\n70173 Stuttgart", "DE811234567"),
        account_id="ACME-01", number="INV-1042", po_number="PO-7781", entity="",
        issue_date=date(2025, 3, 1), due_date=date(2025, 3, 31), currency="EUR",
        locale="de_DE", payment_terms="Payment within 30 days.", status="open", lines=lines,
        subtotal=Decimal("375.00"), tax_total=Decimal("45.00"), total=Decimal("420.00"),
    )


def plain_html(snapshot: InvoiceSnapshot) -> str:
    """Our HTML with the stylesheet inlined, minus @font-face, in the default sans font."""
    css = (TEMPLATES / "invoice.css").read_text(encoding="utf-8")
    css = re.sub(r"@font-face\s*{[^}]*}", "", css).replace('"Invoice Sans"', "sans-serif")
    return invoice_html(snapshot).replace("</head>", f"<style>{css}</style></head>")


def per_second(n: int, render: Callable[[], bytes]) -> tuple[float, float, int]:
    """Renders per CPU-second (per core) and per wall-clock second, and the PDF's size."""
    size = len(render())  # first render pays one-off costs outside the timing
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        render()
    return n / (time.process_time() - cpu), n / (time.perf_counter() - wall), size


async def pool_per_second(n: int, snapshot: InvoiceSnapshot) -> float:
    async with PdfRenderer(max_workers=WORKERS) as renderer:
        await asyncio.gather(*(renderer.render(snapshot) for _ in range(WORKERS)))
        start = time.perf_counter()
        await asyncio.gather(*(renderer.render(snapshot) for _ in range(n)))
        return n / (time.perf_counter() - start)


def run(n: int) -> dict[str, Any]:
    """Renders/second of each way, and how many times faster ours is than plain."""
    snapshot = sample_invoice()
    _import_weasyprint()
    from weasyprint import HTML

    html = plain_html(snapshot)
    plain_cpu, plain, plain_size = per_second(n, lambda: HTML(string=html).write_pdf())
    ours_cpu, ours, ours_size = per_second(n, lambda: render_invoice(snapshot))
    pool = asyncio.run(pool_per_second(n, snapshot))
    return {
        "n": n, "pool_workers": WORKERS,
        "ours_per_cpu_s": round(ours_cpu, 2), "plain_per_cpu_s": round(plain_cpu, 2),
        "per_core_vs_plain": round(ours_cpu / plain_cpu, 2),
        "pool_per_s": round(pool, 2), "ours_in_process_per_s": round(ours, 2),
        "plain_per_s": round(plain, 2),
        "pool_vs_plain": round(pool / plain, 2), "in_process_vs_plain": round(ours / plain, 2),
        "ours_pdf_bytes": ours_size, "plain_pdf_bytes": plain_size,
    }


# ---- as rows of make bench's table --------------------------------------------------------

PDF_LABELS = {
    "ours_per_cpu_s": "renders per CPU-second (per core), our render_invoice",
    "plain_per_cpu_s": "renders per CPU-second (per core), plain WeasyPrint",
    "per_core_vs_plain": "per core: ours vs plain, x",
    "pool_per_s": "renders/s, our PdfRenderer pool",
    "ours_in_process_per_s": "renders/s, our render_invoice, 1 process",
    "plain_per_s": "renders/s, plain WeasyPrint, 1 process",
    "pool_vs_plain": "pool vs plain, x",
    "in_process_vs_plain": "ours in-process vs plain, x",
}


async def pdf_bench(renders: int) -> list[tuple[str, str]]:
    """run(renders) as rows (it runs its own event loop, so it runs in a thread here)."""
    from tests.bench.common import console

    console.log(f"pdf: tests.bench.pdf.run({renders})")
    try:
        outcome = await asyncio.to_thread(run, renders)
    except Exception as exc:  # WeasyPrint's native libraries missing...: report, go on
        return [("error", f"tests/bench/pdf.py: {type(exc).__name__}: {exc}"[:200])]
    return [(PDF_LABELS.get(str(k), str(k)), str(v)) for k, v in outcome.items()]


if __name__ == "__main__":
    result = run(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
    print(f"{'per core (CPU-second), ours':34} {result['ours_per_cpu_s']:8.2f} renders/s")
    print(f"{'per core (CPU-second), plain':34} {result['plain_per_cpu_s']:8.2f} renders/s"
          f"   ours vs plain: {result['per_core_vs_plain']}x")
    print(f"{'our renderer, pool of 2 workers':34} {result['pool_per_s']:8.2f} renders/s")
    print(f"{'our renderer, in-process':34} {result['ours_in_process_per_s']:8.2f} renders/s")
    print(f"{'plain WeasyPrint, default font':34} {result['plain_per_s']:8.2f} renders/s")
    print(f"pool vs plain: {result['pool_vs_plain']}x; in-process vs plain: "
          f"{result['in_process_vs_plain']}x; PDF sizes: ours {result['ours_pdf_bytes']} B, "
          f"plain {result['plain_pdf_bytes']} B")
