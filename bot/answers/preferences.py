"""Alert settings ("my notification settings", "only overdue", "stop alerts").

Issue 5 (another branch) owns alert preferences; until it is merged every preferences
command is answered here, honestly, and nothing is changed.
"""

from __future__ import annotations

from bot.answers import Context
from bot.intents import Preferences
from bot.messages import Reply


async def answer_preferences(ctx: Context, command: Preferences) -> Reply:
    # TODO(lead): route to issue 5's preferences handler at merge.
    return Reply(
        subject="Notification settings are being set up",
        intro="Notification settings are being set up and cannot be viewed or changed by "
              "message yet; nothing was changed.",
        outro="You can still ask for invoices, balances and payments at any time.",
    )
