"""Alert preferences: "notify me on telegram", "daily digest", "quiet hours 20:00-07:00".

A line is about alerts only when it says so: an alert word (notify, alerts, digest,
reminders, quiet hours, unsubscribe, ...), or a bare "stop" / "unsubscribe" / "resume", or
"only <event>" with nothing else ("only overdue"). Then every setting it names is read:
channels, cadence, events, quiet hours, stop/resume. Alert words and nothing else ("my
notification settings") ask to see the settings: Preferences(None).
"""

from __future__ import annotations

import re
from datetime import time

from bot.intents import AnswerIn, PreferenceChange, Preferences
from bot.language.patterns import phrase_body, phrases
from bot.language.smalltalk import is_only_filler
from bot.language.text import Scan
from vault.vocabulary import AlertEvent, Cadence, Channel

CONTEXT = (
    "notify", "notify me", "notification", "notifications", "alert", "alerts", "digest",
    "reminder", "reminders", "remind me", "quiet hours", "do not disturb", "dnd", "unsubscribe",
    "subscribe", "resubscribe", "opt out", "mute", "unmute", "notification settings",
    "alert settings", "settings", "preferences", "benachrichtigung", "benachrichtigungen",
    "benachrichtige mich", "erinnerung", "erinnerungen", "zusammenfassung", "abmelden",
    "abbestellen", "ruhezeit", "ruhezeiten", "einstellungen", "alerte", "alertes", "rappels",
    "previenez moi", "resume quotidien", "resume hebdomadaire", "desabonner", "se desabonner",
    "desinscrire", "heures calmes", "parametres", "notificaciones", "alertas", "avisos",
    "avisadme", "recordatorios", "resumen", "darme de baja", "horas de silencio",
    "configuracion", "preferencias", "notifiche", "avvisi", "promemoria", "riepilogo",
    "disiscrivimi", "ore di silenzio", "impostazioni", "meldingen", "notificaties",
    "waarschuwingen", "herinneringen", "samenvatting", "afmelden", "uitschrijven",
    "stille uren", "instellingen", "notificacoes", "lembretes", "resumo", "descadastrar",
    "configuracoes",
)
CHANNELS = {
    Channel.EMAIL: ("email", "e mail", "emails", "mail", "by mail", "per mail", "correo",
                    "courriel"),
    Channel.SLACK: ("slack",),
    Channel.TELEGRAM: ("telegram",),
}
CADENCES = {
    Cadence.INSTANT: (
        "instant", "instantly", "immediately", "immediate", "real time", "realtime",
        "right away", "as they happen", "sofort", "sofortige", "echtzeit", "immediat",
        "immediatement", "en temps reel", "instantane", "instantanees", "inmediato",
        "inmediatas", "al instante", "en tiempo real", "immediato", "immediate", "subito",
        "in tempo reale", "direct", "meteen", "onmiddellijk", "imediato", "imediatamente",
        "em tempo real"),
    Cadence.DAILY: (
        "daily", "every day", "once a day", "each day", "digest", "taglich", "tagliche",
        "quotidien", "quotidienne", "chaque jour", "diario", "diaria", "cada dia",
        "giornaliero", "quotidiano", "ogni giorno", "dagelijks", "elke dag", "todos os dias"),
    Cadence.WEEKLY: (
        "weekly", "every week", "once a week", "wochentlich", "wochentliche", "hebdomadaire",
        "chaque semaine", "semanal", "settimanale", "wekelijks", "elke week"),
}
EVENTS = {
    AlertEvent.OVERDUE: ("overdue", "past due", "late", "uberfallig", "uberfallige",
                         "en retard", "echues", "vencidas", "scadute", "achterstallig",
                         "em atraso"),
    AlertEvent.DUE_SOON: ("due soon", "before due", "before the due date", "upcoming",
                          "bald fallig", "echeance proche", "proximas a vencer",
                          "in scadenza", "bijna vervallen", "a vencer"),
    AlertEvent.ISSUED: ("new invoice", "new invoices", "new bills", "issued", "neue rechnungen",
                        "nouvelles factures", "nuevas facturas", "nuove fatture",
                        "nieuwe facturen", "novas faturas"),
    AlertEvent.PAYMENT_RECEIVED: ("payment", "payments", "payment received", "paid",
                                  "zahlungen", "zahlungseingang", "paiements", "pagos",
                                  "pagamenti", "betalingen", "pagamentos"),
    AlertEvent.STATUS_CHANGED: ("status change", "status changes", "status", "statusanderungen",
                                "changements de statut", "cambios de estado"),
    AlertEvent.CREDIT_NOTE_ISSUED: ("credit note", "credit notes", "credits", "gutschrift",
                                    "gutschriften", "avoirs", "notas de credito",
                                    "note di credito", "creditnota's"),
}
EVERYTHING = ("everything", "all events", "alles", "tout", "todo", "tutto", "tudo")
STOP = ("stop", "stop alerts", "no more alerts", "unsubscribe", "opt out", "mute", "pause",
        "turn off", "switch off", "disable", "stopp", "abmelden", "abbestellen", "ausschalten",
        "deaktivieren", "arreter", "desabonner", "desinscrire", "desactiver", "parar",
        "detener", "darme de baja", "desactivar", "disattiva", "disattivare", "disiscrivimi",
        "basta", "stoppen", "afmelden", "uitschrijven", "uitzetten", "desativar", "descadastrar")
RESUME = ("resume", "restart", "start again", "turn on", "switch on", "enable", "unmute",
          "subscribe", "resubscribe", "reactivate", "wieder aktivieren", "fortsetzen",
          "einschalten", "aktivieren", "reprendre", "reactiver", "activer", "reanudar",
          "reactivar", "activar", "riprendere", "riattivare", "attivare", "hervatten",
          "aanzetten", "inschakelen", "retomar", "reativar", "ativar")
ONLY = ("only", "just", "nur", "seulement", "uniquement", "solo", "solamente", "alleen",
        "apenas", "somente")

_CONTEXT = phrases(*CONTEXT)
_ONLY = phrases(*ONLY)
_BARE = re.compile(r"^\W*(?:stop|unsubscribe|resume|stopp)\W*$")
_CHANNELS = {name: phrases(*words) for name, words in CHANNELS.items()}
_CADENCES = {cadence: phrases(*words) for cadence, words in CADENCES.items()}
_EVENTS = {event: phrases(*words) for event, words in EVENTS.items()}
_EVERYTHING = phrases(*EVERYTHING)
_STOP = phrases(*STOP)
_RESUME = phrases(*RESUME)
_FRENCH_DIGEST = re.compile(r"\bresume\s+(?:quotidien|hebdomadaire)")
_CLOCK = r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|h|uhr)?"
_QUIET = re.compile(rf"(?<!\d){_CLOCK}\s*(?:-|to|until|till|bis|a|au|hasta|al|tot|ate)\s*"
                    rf"{_CLOCK}(?!\d)")


def read_preferences(scan: Scan) -> Preferences | None:
    """The alert settings this line asks about or changes; None if it is not about alerts."""
    text = scan.text
    if not (_CONTEXT.search(text) or _BARE.match(text) or _only_events(text)):
        return None
    quiet = _quiet_hours(scan)
    switch = _FRENCH_DIGEST.sub(" ", text)  # "résumé quotidien" is a digest, not "resume"
    stop, resume = bool(_STOP.search(switch)), bool(_RESUME.search(switch))
    change = PreferenceChange(
        channels=_named(text, _CHANNELS), cadence=_cadence(text), events=_events(text),
        quiet_hours=quiet, stop=stop and not resume, resume=resume and not stop,
    )
    return Preferences(None if change == PreferenceChange() else change)


def _only_events(text: str) -> bool:
    """"only overdue": an event word after "only", and nothing else on the line."""
    only = _ONLY.search(text)
    if only is None:
        return False
    rest = text[only.end():]
    for pattern in _EVENTS.values():
        rest = pattern.sub(" ", rest)
    return rest != text[only.end():] and is_only_filler(text[:only.start()] + rest)


def _named(text: str, table: dict[Channel, re.Pattern[str]]) -> tuple[Channel, ...] | None:
    names = tuple(name for name, pattern in table.items() if pattern.search(text))
    return names or None


def _cadence(text: str) -> Cadence | None:
    for cadence in (Cadence.INSTANT, Cadence.WEEKLY, Cadence.DAILY):  # "weekly digest"
        pattern = _CADENCES[cadence]
        if pattern.search(text):
            return cadence
    return None


def _events(text: str) -> tuple[AlertEvent, ...] | None:
    if _EVERYTHING.search(text):
        return tuple(AlertEvent)
    found = {event for event, pattern in _EVENTS.items() if pattern.search(text)}
    return tuple(event for event in AlertEvent if event in found) or None


def _quiet_hours(scan: Scan) -> tuple[time, time] | None:
    match = _QUIET.search(scan.text)
    if match is None:
        return None
    start, end = _clock(*match.group(1, 2, 3)), _clock(*match.group(4, 5, 6))
    if start is None or end is None:
        return None
    scan.mask(match.start(), match.end())
    return start, end


def _clock(hour: str, minute: str | None, suffix: str | None) -> time | None:
    h, m = int(hour), int(minute or 0)
    if suffix == "pm" and h < 12:
        h += 12
    elif suffix == "am" and h == 12:
        h = 0
    return time(h, m) if h < 24 and m < 60 else None


# ---- the answer language: "answer in German", "auf Englisch bitte" ------------------------

# Each language's name in each of the seven languages (folded).
LANGUAGE_NAMES = {
    "en": ("english", "englisch", "anglais", "ingles", "inglese", "engels"),
    "de": ("german", "deutsch", "allemand", "aleman", "tedesco", "duits", "alemao"),
    "fr": ("french", "franzosisch", "francais", "frances", "francese", "frans"),
    "es": ("spanish", "spanisch", "espagnol", "espanol", "castellano", "spagnolo", "spaans",
           "espanhol"),
    "it": ("italian", "italienisch", "italien", "italiano", "italiaans"),
    "nl": ("dutch", "niederlandisch", "hollandisch", "neerlandais", "hollandais", "neerlandes",
           "holandes", "olandese", "nederlands", "hollands"),
    "pt": ("portuguese", "portugiesisch", "portugais", "portugues", "portoghese", "portugees"),
}
_ANSWER_VERBS = (
    "answer", "reply", "respond", "write", "speak", "talk", "answer me", "reply to me",
    "write to me", "speak to me", "talk to me", "antworte", "antworte mir", "antworten sie",
    "antworten sie mir", "antwortet", "schreib", "schreibe", "schreib mir", "schreiben sie",
    "schreiben sie mir", "sprich", "sprechen sie", "reponds", "reponds moi", "repondez",
    "repondez moi", "repondre", "ecris", "ecris moi", "ecrivez", "ecrivez moi", "parle",
    "parlez", "parlez moi", "responde", "respondeme", "responda", "respondame", "contesta",
    "contestame", "conteste", "escribe", "escribeme", "escriba", "escribame", "habla",
    "hableme", "rispondi", "rispondimi", "risponda", "rispondete", "scrivi", "scrivimi",
    "scriva", "parla", "antwoord", "antwoord mij", "antwoord me", "antwoorden", "schrijf",
    "schrijf mij", "schrijf me", "spreek", "responda me", "responde me", "escreva",
    "escreva me", "escreve", "escreve me", "fale", "fala",
)
_IN = ("in", "auf", "en", "em", "op", "in het", "in lingua", "em lingua", "na lingua",
       "en idioma", "em idioma", "en lengua")
_PLEASE = ("please", "pls", "bitte", "gerne", "svp", "s il vous plait", "s il te plait",
           "por favor", "per favore", "per piacere", "graag", "alstublieft", "aub", "danke",
           "thanks", "merci", "gracias", "grazie", "bedankt", "obrigado", "obrigada",
           "from now on", "ab jetzt", "desormais", "a partir de ahora", "d ora in poi",
           "vanaf nu", "a partir de agora")
_LANGUAGE_OF = {name: language for language, names in LANGUAGE_NAMES.items() for name in names}
_ANSWER_IN = re.compile(
    rf"^(?:(?:{phrase_body(*_PLEASE)}) )?(?P<verb>(?:{phrase_body(*_ANSWER_VERBS)}) )?"
    rf"(?P<prep>(?:{phrase_body(*_IN)}) )?(?P<name>{phrase_body(*_LANGUAGE_OF)})"
    rf"(?P<please>(?: (?:{phrase_body(*_PLEASE)}))*)$")


def read_answer_language(text: str) -> AnswerIn | None:
    """"answer in German", "auf Englisch bitte", "réponds en français", "in het Nederlands
    graag": the whole line asks for a language (a verb, "in" or "please" with its name;
    the bare name alone is not enough)."""
    words = " ".join(re.sub(r"[^a-z]+", " ", text).split())
    found = _ANSWER_IN.match(words)
    if found is None or not (found["verb"] or found["prep"] or found["please"]):
        return None
    return AnswerIn(_LANGUAGE_OF[found["name"]])
