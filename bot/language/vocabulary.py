"""What the words mean, in English, German, French, Spanish, Italian, Dutch and Portuguese.

All entries are folded (lower case, no accents, "ß" as "ss"), as the request text is.
Each table is a plain tuple of phrases so a reader can check and extend it.
"""

from __future__ import annotations

import re

from bot.language.patterns import phrase_body, phrases

INVOICE_ONE = (
    "invoice", "inv", "bill", "rechnung", "facture", "factura", "fattura", "factuur", "fatura",
    "nota fiscal",
)
INVOICE_MANY = (
    "invoices", "bills", "invoice copies", "copies", "documents", "pdfs", "rechnungen",
    "belege", "kopien", "factures", "facturas", "fatture",
    "facturen", "faturas", "notas fiscais", "copias", "copie", "kopieen",
)
STATEMENT = (
    "statement", "statements", "statement of account", "account statement", "soa",
    "kontoauszug", "kontoauszuge", "saldenbestatigung", "kontoubersicht", "releve",
    "releve de compte", "releves", "estado de cuenta", "extracto de cuenta", "extracto",
    "estratto conto", "estratto", "rekeningoverzicht", "rekeningafschrift", "afschrift",
    "extrato de conta", "extrato",
)
BALANCE = (
    "balance", "account balance", "current balance", "outstanding balance", "total outstanding",
    "total due", "amount due", "how much is outstanding", "how much is still outstanding",
    "how much is open", "how much is due", "how much is owed", "what do we owe",
    "what do we still owe", "what do i owe", "what does our company owe", "how much do we owe",
    "how much do we still owe", "how much do i owe", "saldo", "kontostand", "offener betrag",
    "was schulden wir", "wie viel schulden wir", "wieviel schulden wir", "solde",
    "montant du", "combien devons nous", "combien nous devons", "cuanto debemos",
    "saldo pendiente", "quanto dobbiamo", "hoeveel zijn we verschuldigd",
    "hoeveel moeten we betalen", "openstaand saldo", "quanto devemos", "saldo devedor",
)
AGING = (
    "aging", "ageing", "aging report", "ageing report", "aged debt", "aged receivables",
    "age analysis", "how old are", "altersstruktur", "altersanalyse", "falligkeitsanalyse",
    "offene posten liste", "balance agee", "anteriorite", "antiguedad de saldos", "antiguedad",
    "anzianita dei crediti", "anzianita", "scadenzario", "ouderdomsanalyse", "ouderdom",
    "antiguidade de saldos", "antiguidade",
)
PAYMENTS = (
    "payments", "payment history", "payments made", "remittances", "remittance",
    "remittance history", "what have we paid", "what did we pay",
    "what we paid", "what have i paid", "what did i pay", "zahlungen",
    "zahlungseingange", "zahlungshistorie", "zahlungsubersicht", "was haben wir bezahlt",
    "was haben wir gezahlt", "paiements", "reglements", "versements",
    "historique des paiements", "ce que nous avons paye", "pagos", "historial de pagos",
    "que hemos pagado", "pagamenti", "storico pagamenti", "cosa abbiamo pagato", "betalingen",
    "betalingsoverzicht", "wat hebben we betaald", "pagamentos",
    "historico de pagamentos", "o que pagamos",
)
ARCHIVE = (
    "zip", "zipped", "as zip", "zip file", "zipfile", "in one file", "all in one file",
    "one file", "single file", "one download", "download all", "download everything",
    "bulk download", "archive", "als zip", "zip datei", "in einer datei", "alle herunterladen",
    "alles herunterladen", "archiv", "fichier zip", "en un seul fichier", "un seul fichier",
    "tout telecharger", "archivo zip", "en un solo archivo", "un solo archivo", "descargar todo",
    "descargar todas", "archivio zip", "in un unico file", "in un solo file", "scarica tutto",
    "in een bestand", "alles downloaden", "archief", "arquivo zip", "num unico arquivo",
    "num so arquivo", "baixar tudo", "descarregar tudo",
)
DISPUTE = (
    "dispute", "disputing", "we dispute", "raise a dispute", "open a dispute", "disagree",
    "contest", "contesting", "complaint", "complain", "reklamation", "reklamieren",
    "beanstanden", "beanstandung", "einspruch", "widerspruch", "widersprechen", "contester",
    "contestons", "contestation", "litige", "reclamation", "reclamacion", "reclamar", "disputar",
    "impugnar", "no estamos de acuerdo", "contestare", "contestiamo", "contestazione", "reclamo",
    "non siamo d accordo", "betwisten", "bezwaar", "niet eens", "contestar", "reclamacao",
    "discordamos",
)
# Words that say something is wrong: a dispute only together with an invoice number.
WRONG = (
    "wrong", "incorrect", "error", "mistake", "falsch", "fehlerhaft", "fehler", "erreur",
    "incorrecte", "erronee", "erroneo", "erronea", "incorrecta", "sbagliata", "sbagliato",
    "errore", "onjuist", "fout", "errado", "errada", "incorreto", "incorreta",
)
TALK = (
    "talk to a person", "talk to someone", "talk to somebody", "talk to a human",
    "talk to an agent", "talk to a real person", "speak to someone", "speak to somebody",
    "speak to a person", "speak to a human", "speak with someone", "speak with a person",
    "speak to an agent", "real person", "human", "agent", "call me", "call me back",
    "callback", "call back", "phone me", "ring me", "contact me", "ruckruf",
    "rufen sie mich an", "mit einem menschen sprechen", "mit jemandem sprechen", "mitarbeiter",
    "ansprechpartner", "parler a quelqu un", "parler a une personne", "parler a un conseiller",
    "rappelez moi", "appelez moi", "conseiller", "hablar con una persona",
    "hablar con alguien", "hablar con un agente", "llamenme", "llamadme", "agente",
    "parlare con una persona", "parlare con qualcuno", "parlare con un operatore",
    "richiamatemi", "chiamatemi", "operatore", "spreken met een medewerker",
    "spreken met iemand", "medewerker", "bel me", "bel me terug", "terugbellen",
    "falar com uma pessoa", "falar com alguem", "falar com um atendente", "atendente",
    "liguem me", "ligue me",
)
# "connect telegram", "Telegram verbinden", "lier Slack": a verb near a chat platform.
CONNECT = (
    "connect", "link", "set up", "setup", "add", "verbinden", "verknupfen", "verknuepfen",
    "koppeln", "einrichten", "connecter", "lier", "relier", "associer", "conectar",
    "vincular", "enlazar", "collegare", "connettere", "collega", "koppelen", "koppel",
    "ligar",
)
CHAT_PLATFORMS = ("telegram", "slack")
HELP = (
    "help", "help me", "what can you do", "how does this work", "how do i use this",
    "commands", "options", "hilfe", "was kannst du", "aide", "que pouvez vous faire", "ayuda",
    "aiuto", "hulp", "ajuda", "?",
)
# "last 3 invoices", "die letzten 3 Rechnungen", "les 3 dernières factures"
LATEST = (
    "last", "latest", "most recent", "letzte", "letzten", "neueste", "neuesten", "derniere",
    "dernieres", "dernier", "derniers", "ultima", "ultimas", "ultimo", "ultimos", "ultime",
    "ultimi", "laatste", "recentste",
)

INVOICE_ONE_RE = phrases(*INVOICE_ONE)
INVOICE_MANY_RE = phrases(*INVOICE_MANY)
INVOICE_ANY_RE = phrases(*INVOICE_ONE, *INVOICE_MANY)
STATEMENT_RE = phrases(*STATEMENT)
BALANCE_RE = phrases(*BALANCE)
AGING_RE = phrases(*AGING)
PAYMENTS_RE = phrases(*PAYMENTS)
ARCHIVE_RE = phrases(*ARCHIVE)
DISPUTE_RE = phrases(*DISPUTE)
WRONG_RE = phrases(*WRONG)
TALK_RE = phrases(*TALK)
HELP_RE = phrases(*HELP)
_VERB = rf"(?<!\w)(?:{phrase_body(*CONNECT)})(?!\w)"
_PLATFORM = rf"(?<!\w)(?P<{{}}>{'|'.join(CHAT_PLATFORMS)})(?!\w)"
_BETWEEN = r"(?:\W+\w+){0,3}?\W+"  # up to three words: "link my slack account"
CONNECT_RE = re.compile(rf"{_VERB}{_BETWEEN}{_PLATFORM.format('after')}"
                        rf"|{_PLATFORM.format('before')}{_BETWEEN}{_VERB}")
