"""Send a request email to the local SMTP port, as a trusted relay would deliver it.

For trying the service out: it connects from 127.0.0.1 (a trusted relay by default) and
stamps the Authentication-Results header such a relay adds after checking DMARC.

    python -m bot.sendmail --port 2525 --from ap@acme.example "invoices March"
"""

from __future__ import annotations

import argparse
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from vault.config import load_config


def build(sender: str, to: str, text: str, authserv_id: str) -> EmailMessage:
    msg = EmailMessage()
    domain = sender.rpartition("@")[2]
    msg["Authentication-Results"] = (
        f"{authserv_id}; spf=pass smtp.mailfrom={domain}; "
        f"dkim=pass header.d={domain}; dmarc=pass header.from={domain}"
    )
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = text
    msg["Message-ID"] = make_msgid(domain=domain)
    msg.set_content(f"{text}\n\nThanks,\n{sender}\n")
    return msg


def main() -> None:
    config = load_config()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=config.email.listen[1])
    parser.add_argument("--from", dest="sender", required=True)
    parser.add_argument("--to", default=sorted(config.email.addresses)[0])
    parser.add_argument("text")
    args = parser.parse_args()
    msg = build(args.sender, args.to, args.text, config.email.authserv_id)
    with smtplib.SMTP(args.host, args.port, timeout=10) as smtp:
        smtp.send_message(msg)
    print(f"sent {msg['Message-ID']} to {args.to} via {args.host}:{args.port}")


if __name__ == "__main__":
    main()
