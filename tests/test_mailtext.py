"""What counts as the request in an email: subject and fresh lines, never quoted history."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from bot.mailtext import request_lines


def mail(subject: str, body: str, html: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject
    if html is None:
        msg.set_content(body)
    else:
        msg.set_content(html, subtype="html")
    return msg


def test_subject_prefixes_are_dropped() -> None:
    assert request_lines(mail("RE: AW: Fwd: invoices March", ""))[0] == "invoices March"


def test_gmail_quote_is_cut() -> None:
    body = "unpaid please\n\nOn Mon, 2 Mar 2026 at 10:00, Bot <b@x> wrote:\n> invoices March\n"
    assert request_lines(mail("", body)) == ["unpaid please"]


def test_outlook_header_block_is_cut() -> None:
    body = ("invoice INV-7\n\nFrom: Invoices <invoices@localhost>\nSent: Monday, March 2\n"
            "Subject: Invoices in March\n\nINV-1 INV-2\n")
    assert request_lines(mail("", body)) == ["invoice INV-7"]


def test_signature_is_cut() -> None:
    body = "overdue\n-- \nAnna Petersen\nACME Freight GmbH | invoices March 2019 archive\n"
    assert request_lines(mail("", body)) == ["overdue"]


def test_german_quote_marker_is_cut() -> None:
    body = "offene Rechnungen\nAm 02.03.2026 um 10:00 schrieb Bot <b@x>:\n> alt\n"
    assert request_lines(mail("", body)) == ["offene Rechnungen"]


def test_html_only_mail_is_read_as_text_without_its_quote() -> None:
    html = ("<html><head><style>p{color:red}</style></head><body><p>invoices March</p>"
            "<blockquote>unpaid</blockquote></body></html>")
    assert request_lines(mail("", "", html=html)) == ["invoices March"]


@pytest.mark.parametrize("prefix", ["Re:", "RE: Fwd:", "AW:", "WG:", "TR:", "Fw: [EXT]",
                                    "Re[2]:", "SV:", "RV:"])
def test_reply_and_forward_prefixes_of_every_client_are_dropped(prefix: str) -> None:
    assert request_lines(mail(f"{prefix} statement Q1", "")) == ["statement Q1"]


@pytest.mark.parametrize(
    "quote",
    [
        "On Mon, 2 Mar 2026 at 10:00, Invoices <invoices@localhost> wrote:",
        "On Mon, 2 Mar 2026 at 10:00, Northwind Supply Co. Invoices\n<invoices@localhost> wrote:",
        "Am Mo., 2. März 2026 um 10:00 Uhr schrieb Invoices <invoices@localhost>:",
        "Le lun. 2 mars 2026 à 10:00, Invoices <invoices@localhost> a écrit :",
        "El lun, 2 mar 2026 a las 10:00, Invoices (<invoices@localhost>) escribió:",
        "Il giorno lun 2 mar 2026 alle ore 10:00 Invoices <invoices@localhost> ha scritto:",
        "Op ma 2 mrt 2026 om 10:00 schreef Invoices <invoices@localhost>:",
        "Em seg., 2 de mar. de 2026 às 10:00, Invoices <invoices@localhost> escreveu:",
        "-----Original Message-----",
        "-----Ursprüngliche Nachricht-----",
        "-------- Message d'origine --------",
        "---------- Forwarded message ---------",
        "Begin forwarded message:",
        "________________________________",
        "From: Invoices <invoices@localhost>\nSent: Monday, March 2, 2026 10:00 AM",
        "Von: Invoices <invoices@localhost>\nGesendet: Montag, 2. März 2026 10:00",
        "De : Invoices <invoices@localhost>\nEnvoyé : lundi 2 mars 2026 10:00",
        "De: Invoices <invoices@localhost>\nEnviado el: lunes, 2 de marzo de 2026 10:00",
        "Da: Invoices <invoices@localhost>\nInviato: lunedì 2 marzo 2026 10:00",
        "Van: Invoices <invoices@localhost>\nVerzonden: maandag 2 maart 2026 10:00",
        "De: Invoices <invoices@localhost>\nEnviada em: segunda-feira, 2 de março de 2026",
    ],
)
def test_quoted_history_is_cut_in_every_language(quote: str) -> None:
    body = f"overdue please\n\n{quote}\n\ninvoices March\nunpaid\n"
    assert request_lines(mail("", body)) == ["overdue please"]


@pytest.mark.parametrize(
    "ending",
    [
        "-- \nAnna Petersen\nAccounts Payable",
        "Sent from my iPhone",
        "Von meinem iPhone gesendet",
        "Envoyé de mon iPhone",
        "Enviado desde mi iPhone",
        "Get Outlook for iOS",
        "Best regards,\nAnna Petersen\nACME Freight GmbH | invoices March 2019",
        "Kind regards\nAnna",
        "Best regards, Anna",
        "Best,\nAnna",
        "Mit freundlichen Grüßen\nAnna Petersen",
        "Viele Grüße\nAnna",
        "Cordialement,\nAnne Martin",
        "Saludos,\nAna García",
        "Cordiali saluti\nAnna Rossi",
        "Met vriendelijke groet,\nAnna de Vries",
        "Atenciosamente,\nAna Silva",
        "Thanks,\nAnna\nunpaid invoices",
        "This email and any attachments are confidential and intended solely for the "
        "addressee. Invoices March.",
        "CONFIDENTIALITY NOTICE: this message may contain privileged information.",
        "Diese E-Mail enthält vertrauliche Informationen. Rechnungen März",
    ],
)
def test_signatures_closings_and_disclaimers_are_cut(ending: str) -> None:
    body = f"statement Q1\n{ending}\n"
    assert request_lines(mail("", body)) == ["statement Q1"]


def test_best_price_is_not_a_closing() -> None:
    body = "invoices March\nBest price for the March freight please\n"
    assert request_lines(mail("", body)) == body.strip().splitlines()


def test_a_line_quoted_inline_stops_the_reading() -> None:
    body = "unpaid\n> invoices March\nmore text after the quote\n"
    assert request_lines(mail("", body)) == ["unpaid"]


def test_html_gmail_reply_keeps_only_the_new_text() -> None:
    html = ('<div dir="ltr">Could you send the <b>unpaid</b> invoices?<br>Thanks!<br>'
            '<div class="gmail_signature">Anna Petersen<br>invoices March 2019</div></div>'
            '<br><div class="gmail_quote"><div class="gmail_attr">On Mon, 2 Mar 2026 Invoices '
            'wrote:<br></div><blockquote>statement Q1</blockquote></div>')
    assert request_lines(mail("Re: hello", "", html=html)) == [
        "hello", "Could you send the unpaid invoices?", "Thanks!"]


def test_html_outlook_reply_keeps_only_the_new_text() -> None:
    html = ("<html><head><title>x</title></head><body><p>invoices March&nbsp;2026</p>"
            '<div id="appendonsend"></div><hr><div id="divRplyFwdMsg"><b>From:</b> Invoices'
            "<br><b>Sent:</b> Monday<br></div><p>statement Q1</p></body></html>")
    assert request_lines(mail("", "", html=html)) == ["invoices March\xa02026"]


def test_at_most_twenty_lines_are_read() -> None:
    body = "\n".join(f"line {n}" for n in range(100))
    assert len(request_lines(mail("", body))) == 20
