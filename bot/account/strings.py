"""Words that code (not a template) puts on the account page, in English, marked for the
`pages` catalogue (vault.i18n; `make catalogues` extracts this module's `_` calls).

They are translated where they are shown: the templates print `_(title)`, `_(notice)` in
the page's language (vault.pages). Templates mark their own words with `_("...")`.
"""

from __future__ import annotations


def _(text: str) -> str:
    """Marks English text for the catalogue; the page translates it when it renders."""
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
FRESH_SUBJECT = _("Your account link")
FRESH_TEXT = _("Here is a fresh link to your account page:")
OPEN_ACCOUNT = _("Open your account")
BAD_PERIOD = _("Choose a start and an end date, the start first.")
LINK_GONE = _("This link is no longer valid")
LINK_GONE_TEXT = _("Links expire after a while. Ask us by email or chat for a fresh one.")
CODE_SENT = _("We emailed you a code. Type it below within 10 minutes.")
CODE_NOT_SENT = _("No code was sent: too many codes or wrong tries for your address "
                  "within the last hour. Try again later.")
CODE_WRONG = _("That code is not valid (or no longer). Check the latest email, or ask "
               "for a new code.")
CODE_SUBJECT = _("Your code for your account page")
CODE_TEXT = _("Your code is {code}. Type it on your account page within 10 minutes.")
CODE_NOT_YOU = _("If you did not ask for it, someone may have one of your links: do not "
                 "share the code, and tell our accounts receivable team.")
THROUGH_PAGE = _("Your documents are on your account page")
THROUGH_PAGE_TEXT = _("Your company asks for a code before invoices are downloaded, so "
                      "this link opens your account page in this browser.")

# Words the templates show from data: statuses, alert kinds, aging buckets, the notes of
# an invoice's status history (vault.history). Listed here so the catalogue has them.
SHOWN_FROM_DATA = (
    _("open"), _("partially paid"), _("paid"), _("overdue"), _("void"), _("disputed"),
    _("new invoices"), _("status changes"), _("payments received"), _("overdue invoices"),
    _("invoices due soon"), _("credit notes"),
    _("Current"), _("1-30 days"), _("31-60 days"), _("61-90 days"), _("Over 90 days"),
    _("issued"), _("due date passed"), _("voided"), _("disputed, as our records show"),
    _("no reason given"), _("dispute resolved"), _("payment received"),
)
