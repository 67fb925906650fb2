"""`make bench`: the email path end to end at scale, alerts at volume, PDF throughput.

    make bench                                  # 1M invoices, 20k accounts, SQLite
    make bench ARGS="--rebuild"                 # build the cached vault again
    make bench ARGS="--pg postgres://postgres@127.0.0.1:5432/postgres"   # + PostgreSQL
    make bench ARGS="--only alerts"             # one part (email, alerts, ingest, pdf; repeatable)
    make bench ARGS="--only ingest --pg postgres://postgres@127.0.0.1:5432/postgres"
    .venv/bin/python -m tests.bench --help

A benchmark, not a test: it prints one table of figures and asserts nothing. Loopback only.

email   Per database, in a process of its own: the vault (tests/bench/data.py, cached in
        var/bench/), then the real Service (bot.service) with its outbound relay pointed
        at a sink. A load generator process holds a real SMTP client (smtplib) and that
        sink (aiosmtpd), so both timestamps come from one clock.
        latency: N authenticated requests ("invoices March" / "invoice INV-..."
          alternating) from random accounts, one at a time; per request, from the client
          getting 250 for DATA to the reply being accepted by the sink. The stages come
          from the rows' own timestamps; the CPU row says how busy this machine was with
          other work meanwhile (figures from a busy machine are not comparable).
        largest account: the same for the account with the most invoices.
        accept rate: the same client sends a burst over one connection, first to a no-op
          aiosmtpd receiver (same server set-up, handler returns 250), then to ours (commits
          before 250 while answering what came before); then how long the answers take.
alerts  Per database, in a process of its own, on a fresh database (tests/bench/alerts.py):
        N alert emails (~1.5 KB) enqueued, then delivered to an aiosmtpd sink in another
        process that counts Message-IDs. Enqueue and delivery are timed apart.
        baseline (fewer alerts, --alerts-baseline): enqueue() per alert (a commit each);
          delivery as it was before: one claim transaction per row and a new SMTP
          connection (EHLO ... QUIT) per message.
        ours: outbox.enqueue_many (500 rows per transaction); delivery by dispatch_once as
          the service runs it: claims of 10 rows, each row marked sent once the relay
          accepted it, one SMTP connection per round.
ingest  Per database, in a process of its own, on a scratch database (tests/bench/ingest.py):
        invoices/s stored through the API (batches of 1,000 over HTTP, a real API key) and
        through CSV import (what `invoicebot import invoices FILE` runs), each with PDF
        rendering on (as the product does) and off (a stand-in renderer: no WeasyPrint,
        everything else as is).
pdf     tests.bench.pdf.run(n): renders/second next to plain WeasyPrint.
"""
