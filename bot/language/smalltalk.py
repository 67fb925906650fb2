"""The words around a request: politeness, pronouns, verbs like "send", greetings, thanks.

They carry no meaning for the command, so a line made only of them plus one keyword is
still that keyword ("could you please send me our invoices?"), and a line of them alone
("Hi Anna," / "Thanks!") is no request at all.
"""

from __future__ import annotations

import re

from bot.language.patterns import phrases

FILLER = frozenset(re.findall(r"\S+", """
please pls plz kindly the a an all any my our us me i we you your can could would will
send show give get list need want like have has had to of for in on at with and or also too
again just see some them it that this these those is are be there what which do does did
still currently now hi hello hey dear team ok okay required request looking find up by
resend download provide share forward let know good morning afternoon evening sir madam
yes possible asap urgent quick quickly pdf file files link links once more latest recent
current entire full complete whole every thank thanks copy ones one here so if as from
between since during until after before about
bitte die der das den dem des ein eine einen alle allen unsere unser unseren meine mein mir
uns ich wir sie senden schicken zusenden zuschicken zeigen geben brauchen benotigen konnen
konnten wurden mochten hatten haben von fur im mit und oder auch noch nochmal erneut hallo
guten tag liebe lieber sehr geehrte damen herren danke kopie als zu vom zum ist sind welche
was
s il vous plait svp les le la l des de du d un une toutes tous tout nos notre mes mon ma moi
nous je envoyer envoyez renvoyer montrer avoir pourriez pouvez pourrais voudrais besoin
merci bonjour madame monsieur en pour avec et ou aussi encore copie au aux est sont quelles
quels
por favor las los el del una todas todos nuestras nuestros mis nos enviar envien envie
mandar mostrar necesito necesitamos podria podrian puede pueden quisiera gracias hola
buenos dias para con y o tambien otra vez copia son es que cuales
per favore il lo gli delle dei degli di della tutte tutti nostre nostri mie miei mi ci
inviare inviate mandare mostrare potete potreste vorrei grazie ciao buongiorno e anche
ancora sono che quali
graag alstublieft aub het een onze ons mijn mij ik wij stuur sturen toesturen tonen kunt
kan zou willen wil bedankt dank goedemorgen van voor ook nog opnieuw welke zijn
as os um todas nossas nossos minhas meus gostaria obrigado obrigada ola bom dia em
novamente sao precisamos preciso poderia podem
"""))

GREETING = (
    "hi", "hello", "hey", "dear", "good morning", "good afternoon", "good evening",
    "hallo", "guten tag", "guten morgen", "liebe", "lieber", "sehr geehrte damen und herren",
    "sehr geehrte", "sehr geehrter", "moin", "servus", "bonjour", "bonsoir", "madame",
    "monsieur", "hola", "buenos dias", "buenas tardes", "estimado", "estimada", "ciao",
    "buongiorno", "buonasera", "gentile", "egregio", "goedemorgen", "goedemiddag", "beste",
    "geachte", "ola", "bom dia", "boa tarde", "prezado", "prezada", "caro", "cara",
)
THANKS = (
    "thanks", "thank you", "many thanks", "thx", "ty", "cheers", "danke", "vielen dank",
    "danke schon", "besten dank", "merci", "merci beaucoup", "gracias", "muchas gracias",
    "grazie", "grazie mille", "bedankt", "dank je", "dank u", "hartelijk dank", "obrigado",
    "obrigada", "muito obrigado", "muito obrigada",
)
# "ok", "perfect", "got it": an answer to ours that asks for nothing.
ACKNOWLEDGEMENTS = (
    "ok", "okay", "k", "great", "perfect", "excellent", "awesome", "wonderful", "brilliant",
    "got it", "received", "well received", "noted", "all good", "sounds good", "that s it",
    "that s all", "much appreciated", "appreciated", "alles klar", "super", "prima", "passt",
    "erhalten", "gut", "sehr gut", "toll", "wunderbar", "perfekt", "verstanden",
    "parfait", "d accord", "bien recu", "recu", "entendu", "tres bien", "genial", "vale",
    "perfecto", "recibido", "de acuerdo", "estupendo", "va bene", "perfetto", "ricevuto",
    "ottimo", "benissimo", "oke", "top", "ontvangen", "duidelijk", "helemaal goed", "certo",
    "perfeito", "recebido", "otimo", "combinado", "beleza",
)
# "have a nice day", "schönes Wochenende": wishes, no request.
WISHES = (
    "have a nice day", "have a good day", "have a great day", "have a nice weekend",
    "have a good weekend", "have a great weekend", "nice weekend", "good day",
    "schonen tag", "schonen tag noch", "schones wochenende", "bonne journee", "bonne soiree",
    "bon week end", "bonne fin de journee", "buen dia", "que tenga un buen dia",
    "buen fin de semana", "buona giornata", "buon fine settimana", "buona serata",
    "fijne dag", "fijn weekend", "prettige dag", "bom fim de semana", "tenha um bom dia",
    "bom trabalho",
)
CLOSING = (
    "best regards", "kind regards", "regards", "warm regards", "best wishes", "best", "cheers",
    "sincerely", "yours sincerely", "yours faithfully", "mit freundlichen grussen",
    "freundliche grusse", "viele grusse", "beste grusse", "liebe grusse", "grusse", "gruss",
    "cordialement", "bien cordialement", "bien a vous", "salutations", "saludos",
    "un saludo", "atentamente", "cordiales saludos", "cordiali saluti", "distinti saluti",
    "saluti", "met vriendelijke groet", "met vriendelijke groeten", "vriendelijke groet",
    "groeten", "atenciosamente", "cumprimentos", "abracos", "com os melhores cumprimentos",
)
_WORD = re.compile(r"[^\W\d_]+")
_THANKS = phrases(*THANKS).pattern
_THANKS_START = re.compile(rf"^\W*(?:{_THANKS})")
_THANKS_FOR = re.compile(rf"^\W*(?:{_THANKS})\W*(?:(?:so|very)\s+much\s+|again\s+)?"
                         r"(?:for|fur|pour|por|per|voor|pela|pelo)\b")
_CLOSING = re.compile(rf"^\W*(?:{phrases(*CLOSING).pattern})\W*$")
# "Hi Anna," / "Dear Sir or Madam," / "Hallo Herr Meier," : the greeting and the name.
_GREETING = re.compile(rf"^\W*(?:{phrases(*GREETING).pattern})(?:(?:\s+[^\W\d_]+){{0,3}}\s*,"
                       r"|\W*(?=\w|$))")


def is_only_filler(folded: str) -> bool:
    return all(word in FILLER for word in _WORD.findall(folded))


def content_words(folded: str) -> list[str]:
    return [word for word in _WORD.findall(folded) if word not in FILLER]


def is_pleasantry(folded: str) -> bool:
    """A closing ("Kind regards"), thanks alone, or thanks for something already done."""
    if _THANKS_FOR.match(folded) or _CLOSING.match(folded):
        return True
    return bool(_THANKS_START.match(folded)) and is_only_filler(folded)


_COURTESY = phrases(*THANKS, *ACKNOWLEDGEMENTS, *WISHES, *CLOSING)
MAX_NAME_WORDS = 2  # "Thanks Anna!", "Danke Frau Meier"


def is_courtesy(folded: str, known: frozenset[str]) -> bool:
    """Thanks, an acknowledgement or a wish, perhaps with a closing, and nothing else ("ok
    thanks!", "perfect, thank you", "merci beaucoup, bonne journée", "Thanks Anna"): no
    request. A closing alone ("Kind regards") is not: it is passed over.
    Besides filler, at most MAX_NAME_WORDS other words, none of them a word we read
    ("ok March" asks for March)."""
    if _THANKS_FOR.match(folded):
        return True
    found = [m for m in _COURTESY.finditer(folded)
             if m[0] in THANKS or not _CLOSING.match(m[0])]  # "Cheers!" thanks
    if not found:
        return False
    rest = _COURTESY.sub(" ", folded)
    others = content_words(rest)
    if len(others) > MAX_NAME_WORDS or any(word in known for word in others):
        return False
    return not others or bool(found[0].start() == len(folded) - len(folded.lstrip(" \x00,.!")))


def greeting_end(folded: str) -> int:
    """Where a leading greeting ("Hi Anna,") ends; 0 if the line does not open with one."""
    match = _GREETING.match(folded)
    return match.end() if match else 0
