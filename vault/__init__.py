"""vault: the account-scoped document vault, the ground every other package stands on.

Owns the data (models, migrations, the database), the shared vocabulary and clock, reading
an account's invoices (AccountScope: the only way a contact's data is read), documents and
PDFs, signed links and the download routes, ingestion (CSV files and the REST API under
/api/v1, vault.api), invoice events and the audit trail,
and configuration.

Must not import bot or notifier (tests/test_layers.py holds it to that).
"""
