"""The command language: what a contact's words ask for, as typed commands (bot.intents).

parse.py reads one line, request.py a whole message. The recognizers, each a short module:
text (folding and masking), months (Babel's month names), vocabulary / statuses /
smalltalk (the words, in English, German, French, Spanish, Italian, Dutch, Portuguese),
typos (rapidfuzz), identifiers (invoice and PO numbers), relative / points / periods /
dates (periods), amounts, entity, prefs (alert settings), suggestions (for Unclear).
"""
