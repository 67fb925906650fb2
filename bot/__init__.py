"""bot: the application: every channel in (email, Slack, Telegram, the CLI), the one
pipeline that answers a verified contact's request, the command language, and the
composition root (CLI and `serve`) that wires vault and notifier together.

May import vault and notifier; neither imports bot.
"""
