"""Getting data into the vault. Every source ends in the same store functions.

- table.py        CSV file -> rows with physical line numbers; column checks per kind
- fields.py       one cell -> a typed value or FieldError (dates, money, currency, ...)
- accounts.py     accounts and contacts: parse, plan (batched reads), write
- invoice_csv.py  invoice rows -> InvoiceDraft (drafts.py: money rules, content hash)
- invoice_store.py  drafts -> plan -> rows (upsert_invoices for non-CSV sources)
- payments.py     payments, then each touched invoice's amount_paid and status
- csv.py          import_csv(): check everything, then one short write transaction
- feed.py         the watched feed folder: settled files -> import_csv -> processed/, failed/
"""
