"""`make bench`: the email path end to end at scale, alerts at volume, PDF throughput.

    make bench                                  # 1M invoices, 20k accounts, SQLite
    make bench ARGS="--rebuild"                 # build the cached vault again
    make bench ARGS="--pg postgres://postgres@127.0.0.1:5432/postgres"   # + PostgreSQL
    make bench ARGS="--only alerts"   # one part (email alerts ingest load pdf storage)
    make bench ARGS="--only load --pg postgres://postgres@127.0.0.1:5432/postgres"
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
        accept rate: the same client sends a burst over 20 sessions at once (--sessions),
          first to a no-op aiosmtpd receiver (same server set-up, handler returns 250),
          then to ours (commits before 250, messages arriving together sharing one
          commit, while answering what came before); the two rates side by side, then
          how long the answers take.
alerts  Per database, in a process of its own, on a fresh database (tests/bench/alerts.py):
        N alert emails (~1.5 KB) enqueued, then delivered to an aiosmtpd sink in another
        process that counts Message-IDs. Enqueue and delivery are timed apart.
        baseline (fewer alerts, --alerts-baseline): enqueue() per alert (a commit each);
          delivery as it was before: one claim transaction per row and a new SMTP
          connection (EHLO ... QUIT) per message.
        ours: outbox.enqueue_many (500 rows per transaction); delivery by dispatch_due as
          the service's delivery worker runs it: claims of 20 rows, sent in waves of up to
          email.outbound_connections messages, each wave marked sent in one transaction,
          SMTP connections kept across messages and rounds.
ingest  Per database, in a process of its own, on a scratch database (tests/bench/ingest.py):
        invoices/s stored through the API (batches of 1,000 over HTTP, a real API key) and
        through CSV import (what `invoicebot import invoices FILE` runs), each with PDF
        rendering on (as the product does) and off (a stand-in renderer: no WeasyPrint,
        everything else as is).
load    Per database, in a process of its own (tests/bench/load.py): --load-instances
        real `invoicebot serve` subprocesses on PostgreSQL (1 on SQLite) with their relay
        pointed at a sink; --load-sessions concurrent SMTP sessions send --load-requests
        requests in all, spread over the instances; half way, instance 1 gets SIGKILL and
        is started again --load-down seconds later. A session whose connection broke
        sends the message again to the next instance with the same Message-ID. The sink
        counts replies by In-Reply-To: accepted (250) = answered exactly once, lost and
        duplicates counted and named; send -> 250 and 250 -> reply p50/p99; each
        instance's RSS at start, before the kill and at the end.
pdf     tests.bench.pdf.run(n): renders/second next to plain WeasyPrint.

Every part runs at a tiny scale in the suite (tests/test_bench.py) through this entry
point; a part that fails gives an "error" row and exit status 1. BENCH_DIR
moves var/bench/ elsewhere; --tag suffixes the PostgreSQL databases' names.
"""
