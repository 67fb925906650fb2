"""Every Prometheus metric invoicebot exports, defined once; `GET /metrics` serves them
(vault.metrics_http).

Each fact is counted where it is known, once: a request's outcome where the pipeline
decides it (bot.pipeline), a reply's time to retrieval where the relay or chat API
accepted it (notifier.outbox.mark_sent), delivery attempts and failures in
notifier.delivery, downloads and page views in vault.web, PDF render times in vault.pdf,
ingested rows in vault.ingest, rows per shared commit in vault.group_commit. What the
database already knows (outbox depth and age, inbound queue depth) is read from it at
scrape time, so every instance reports the same database-wide figure.

Several instances: each process keeps its own counters and is scraped on its own (one
target per instance; sum() the counters across instances, take max() of the database
gauges). Workers of one instance that share a port (several processes behind one
listener) set PROMETHEUS_MULTIPROC_DIR to an empty folder before starting: the client
then keeps the counters in files there and /metrics adds them up (prometheus-client's
multiprocess mode).
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Counter, Histogram

from vault.vocabulary import Channel, RequestOutcome

# Time to retrieval: seconds to a few minutes when all is well, hours when a relay is down.
RETRIEVAL_BUCKETS = (0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 1800, 3600, 4 * 3600)
RENDER_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30)
GROUP_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 256)

REQUESTS = Counter(
    "invoicebot_requests", "Requests handled by the pipeline, by channel and outcome "
    "(answered, escalated, not_understood, unverified, refused)", ["channel", "outcome"])
TIME_TO_RETRIEVAL = Histogram(
    "invoicebot_time_to_retrieval_seconds", "From a request received to its reply accepted "
    "by the mail relay or the chat API", ["channel"], buckets=RETRIEVAL_BUCKETS)
DOWNLOADS = Counter(
    "invoicebot_downloads", "Signed links served: one PDF, or a ZIP of several", ["kind"])
DOCUMENTS_DOWNLOADED = Counter(
    "invoicebot_documents_downloaded", "Documents served through signed links (a ZIP counts "
    "each document in it)")
PAGE_VIEWS = Counter(
    "invoicebot_page_views", "HTML pages served, by page (link_refused; the account page "
    "adds its own)", ["page"])
DELIVERY_ATTEMPTS = Counter(
    "invoicebot_delivery_attempts", "Outgoing messages handed to the relay or chat API",
    ["channel"])
DELIVERY_FAILURES = Counter(
    "invoicebot_delivery_failures", "Delivery attempts that failed: temporary (retried) or "
    "dead (given up, AR told)", ["channel", "kind"])
PDF_RENDER = Histogram(
    "invoicebot_pdf_render_seconds", "Time to render one PDF in the worker pool, waiting "
    "included", ["document"], buckets=RENDER_BUCKETS)
GROUP_COMMIT_ROWS = Histogram(
    "invoicebot_group_commit_rows", "Rows written by one shared commit before their "
    "acknowledgements (vault.group_commit), by table", ["table"], buckets=GROUP_BUCKETS)
INGESTED_ROWS = Counter(
    "invoicebot_ingested_rows", "Rows read by imports, the API and the feed folder, by kind "
    "and result (created, updated, unchanged)", ["kind", "result"])

# Pre-create the label sets a dashboard expects, so a quiet day shows zeros, not gaps.
for _channel in (Channel.EMAIL, Channel.SLACK, Channel.TELEGRAM):
    for _outcome in RequestOutcome:
        REQUESTS.labels(_channel.value, _outcome.value)
    DELIVERY_ATTEMPTS.labels(_channel.value)


def request_handled(channel: str, outcome: RequestOutcome) -> None:
    REQUESTS.labels(channel, outcome.value).inc()


def reply_accepted(channel: str, received_at: datetime | None, accepted_at: datetime) -> None:
    """A reply accepted by the relay or chat API; counted when its request time is known."""
    if received_at is not None:
        seconds = max((accepted_at - received_at).total_seconds(), 0.0)
        TIME_TO_RETRIEVAL.labels(channel).observe(seconds)


def delivery_attempted(channel: str) -> None:
    DELIVERY_ATTEMPTS.labels(channel).inc()


def delivery_failed(channel: str, *, dead: bool) -> None:
    DELIVERY_FAILURES.labels(channel, "dead" if dead else "temporary").inc()


def downloaded(documents: int) -> None:
    DOWNLOADS.labels("pdf" if documents == 1 else "zip").inc()
    DOCUMENTS_DOWNLOADED.inc(documents)


def page_viewed(page: str) -> None:
    PAGE_VIEWS.labels(page).inc()


def pdf_rendered(document: str, seconds: float) -> None:
    PDF_RENDER.labels(document).observe(seconds)


def group_committed(table: str, rows: int) -> None:
    GROUP_COMMIT_ROWS.labels(table).observe(rows)


def rows_ingested(kind: str, created: int, updated: int, unchanged: int) -> None:
    for result, rows in (("created", created), ("updated", updated), ("unchanged", unchanged)):
        if rows:
            INGESTED_ROWS.labels(kind, result).inc(rows)
