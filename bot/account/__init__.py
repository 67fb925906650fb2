"""The contact's account page: /a/{token} opens a session, pages under /account/.

strings.py  every interface word (one catalogue, `_()`-ready for translation)
opening.py  the link's page, starting a session, a fresh link when one was used
guard.py    the session cookie, CSRF, rate limit, headers, audit of every view
listing.py  the invoice filters, sorting and pages
pages.py    the pages and downloads
"""
