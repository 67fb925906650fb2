"""Every word the account page shows, in one catalogue ready for translation.

Templates call `_("...")` with the English text as the key (gettext style); today
`_` returns it unchanged. Babel's extract can collect these calls later.
"""

from __future__ import annotations


def _(text: str) -> str:
    """The text in the contact's language (English until catalogues exist)."""
    return text


# Words that code (not a template) puts on a page.
OPEN_TITLE = _("Your account")
OPEN_BUTTON = _("Open my account")
OPEN_INTRO = _("This link opens your account page in this browser.")
USED_TITLE = _("This link was already used")
USED_INTRO = _("For your safety a link opens one browser only. We can send a fresh "
               "link to the address we have on file.")
USED_BUTTON = _("Send me a fresh link")
SENT_TITLE = _("Fresh link sent")
SENT_INTRO = _("We sent a fresh link to the address we have on file.")
FORBIDDEN = _("This form has expired. Go back, reload the page and try again.")
NOT_FOUND = _("No such page or invoice in your account.")
SIGNED_OUT = _("You are signed out. Open the link in your latest email to come back.")
EXPIRED = _("Your session has ended. Open the link in your latest email to come back.")
TOO_MANY = _("Too many requests. Wait a minute and try again.")
DISPUTE_DONE = _("Thank you. We recorded your dispute and told our accounts team.")
DISPUTE_REFUSED = {
    "already_disputed": _("This invoice is already in dispute."),
    "void": _("This invoice is void: there is nothing to dispute."),
    "paid": _("This invoice is paid. We told our accounts team about your message."),
}
PREFERENCES_SAVED = _("Your notification settings are saved.")
NOT_LINKED = _("Not linked yet, so not chosen:")
FRESH_SUBJECT = _("Your account link")
FRESH_TEXT = _("Here is a fresh link to your account page:")
OPEN_ACCOUNT = _("Open your account")
BAD_PERIOD = _("Choose a start and an end date, the start first.")
BAD_FILTER = _("Some filters were not understood and are ignored:")
LINK_GONE = _("This link is no longer valid")
LINK_GONE_TEXT = _("Links expire after a while. Ask us by email or chat for a fresh one.")
