"""notifier: telling people without being asked: alerts, digests and the AR digest, and the
outbox every outgoing message waits in until a channel delivers it.

Owns contacts' alert preferences, the expansion of invoice events into notifications, the
outbox's delivery state machine and the scheduler's ticks (which only trigger; the
database holds the truth).

Imports vault; must not import bot (channel senders are handed in by bot's service).
"""
