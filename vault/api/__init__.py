"""The REST ingestion API under /api/v1 (README: "Connecting your billing system").

- schemas.py      pydantic models of every body; fields checked by vault.ingest.fields
- ingest.py       validated objects -> vault.ingest's planners and writers, one transaction
- views.py        stored rows -> the answer models
- http.py         the Starlette routes: key, scope, rate, Idempotency-Key, audit
- keys.py         API keys (hashed), made by `invoicebot apikey`
- idempotency.py  answers kept 24 h per (API key, Idempotency-Key)
- ratelimit.py    a token bucket per key
- openapi.py      the OpenAPI document, built from schemas.py

Imports only vault (not bot): the service (bot.service) adds the routes to the app and
hands in the function that renders PDFs after a commit.
"""
