"""The demo's invented customers, tickets and service addresses, and when things happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

# Finnish standard time. The demo ignores summer time: it needs plausible offsets, not a
# time-zone database, which slim installations may lack.
FINNISH_TIME = timezone(timedelta(hours=2))
CHECK_CHARACTERS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
CENTURY_SIGNS = {1800: "+", 1900: "-YXWVU", 2000: "ABCDEF"}

SERVICE_NAME = "Kotivirta Oy asiakaspalvelu"
SERVICE_EMAIL = "service@example-company.fi"
SERVICE_PHONE = "+358 9 4245 1000"
MAIL_DOMAIN = "mail.example-company.fi"


@dataclass(frozen=True)
class DemoCustomer:
    name: str
    email: str
    phone: str | None
    national_id: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class DemoTicket:
    reference: str
    subject: str
    category: str
    status: str
    customer_email: str
    days_ago: int


def identity_code(born: date, individual: int, sign: str) -> str:
    """A Finnish personal identity code; individual numbers 900-999 make a temporary one."""
    century = born.year // 100 * 100
    if sign not in CENTURY_SIGNS.get(century, ""):
        raise ValueError(f"century sign {sign!r} is not used for {century}s births")
    if not 2 <= individual <= 999:
        raise ValueError("the individual number is 002-999")
    digits = f"{born:%d%m%y}{individual:03d}"
    return f"{born:%d%m%y}{sign}{individual:03d}{CHECK_CHARACTERS[int(digits) % 31]}"


def demo_time(now: datetime, days_ago: int, clock: str) -> datetime:
    """`days_ago` days before `now`, at the Finnish wall-clock time `clock` ("HH:MM")."""
    hour, minute = (int(part) for part in clock.split(":"))
    day = now.astimezone(FINNISH_TIME) - timedelta(days=days_ago)
    return day.replace(hour=hour, minute=minute, second=0, microsecond=0)


# The six customers heard in the demo recordings keep the name and e-mail given in the
# recordings' metadata, and the number where it has one the archive accepts; the Finnish
# numbers of the two who have none there are made up here.
CUSTOMERS = (
    DemoCustomer(
        "Aino Virtanen",
        "aino.virtanen@example.fi",
        "+358 40 712 3456",
        identity_code(date(1987, 3, 14), 246, "-"),
        "Hämeenkatu 14 B 22\n33100 Tampere",
    ),
    DemoCustomer(
        "Matti Mäkinen",
        "matti.makinen@example.fi",
        "+358 50 384 2201",
        identity_code(date(1958, 11, 2), 123, "Y"),
        "Kauppakatu 7 A 3\n40100 Jyväskylä",
    ),
    DemoCustomer(
        "Johanna Sjöberg",
        "johanna.sjoberg@example.com",
        "+358 44 915 0372",
        identity_code(date(2003, 6, 21), 384, "A"),
        "Handelsesplanaden 12 C 9\n65100 Vasa",
    ),
    DemoCustomer(
        "Päivi Järvinen",
        "paivi.jarvinen@example.fi",
        "+358 44 703 9921",
        identity_code(date(1972, 1, 9), 62, "X"),
        "Yliopistonkatu 9 A 12\n20100 Turku",
    ),
    DemoCustomer(
        "Eero Häkkinen",
        "eero.hakkinen@example.com",
        "+358 45 127 8864",
        # A temporary code: Eero is not (yet) in the population register.
        identity_code(date(1990, 5, 17), 953, "-"),
        "Puistokatu 18\n70100 Kuopio",
    ),
    DemoCustomer(
        "Linnéa Åkerblom",
        "linnea.akerblom@example.fi",
        "+358 40 236 5018",
        identity_code(date(1995, 12, 24), 408, "W"),
        "Storgatan 21\n68600 Jakobstad",
    ),
    DemoCustomer(
        "Elias Grönroos",
        "elias.gronroos@example.com",
        "+358 50 992 4407",
        identity_code(date(2004, 9, 30), 517, "B"),
        "Esplanaden 4\n10600 Ekenäs",
    ),
    DemoCustomer(
        "Mikko Lehtinen",
        "mikko.lehtinen@example.com",
        "+358 40 588 1290",
        None,
        "Ratapihantie 31 as 5\n00520 Helsinki",
    ),
    DemoCustomer(
        "Sanna Heikkilä",
        "sanna.heikkila@example.org",
        "+358 50 461 7735",
        None,
        "Koulukatu 3\n90100 Oulu",
    ),
    DemoCustomer(
        "Anders Nyström",
        "anders.nystrom@example.net",
        "+46 70 174 06 77",
        None,
        "Nygatan 3\n06100 Borgå",
    ),
    DemoCustomer("Karin Lindqvist", "karin.lindqvist@example.net", "+46 70 174 06 50"),
    # Their recordings give numbers from the UK's range reserved for drama, which the archive
    # rightly refuses as not valid; their calls reach them by e-mail address instead.
    DemoCustomer("Daniel Hart", "daniel.hart@example.com", None),
    DemoCustomer("Grace Whitfield", "grace.whitfield@example.org", None),
)

TICKETS = (
    DemoTicket(
        "CS-5101", "Laskun eräpäivän siirto", "question", "solved", "aino.virtanen@example.fi", 47
    ),
    DemoTicket(
        "CS-5102",
        "Reklamaatio: uusi pesukone vuotaa",
        "complaint",
        "pending",
        "matti.makinen@example.fi",
        105,
    ),
    DemoTicket(
        "CS-5103",
        "Fråga om fakturan för maj",
        "question",
        "solved",
        "johanna.sjoberg@example.com",
        101,
    ),
    DemoTicket(
        "CS-5104", "Epäilyttävä laskuviesti", "incident", "closed", "paivi.jarvinen@example.fi", 27
    ),
    DemoTicket("CS-5105", "Osoitteenmuutos", "request", "solved", "eero.hakkinen@example.com", 68),
    DemoTicket(
        "CS-5106",
        "Maksusuunnitelma erääntyneelle laskulle",
        "request",
        "solved",
        "mikko.lehtinen@example.com",
        52,
    ),
    DemoTicket(
        "CS-5107", "Paketti myöhässä", "incident", "solved", "sanna.heikkila@example.org", 36
    ),
    DemoTicket(
        "CS-5108",
        "Klagomål: dubbel kortdragning",
        "complaint",
        "closed",
        "anders.nystrom@example.net",
        75,
    ),
    DemoTicket(
        "CS-5109",
        "Late washing machine delivery",
        "complaint",
        "open",
        "grace.whitfield@example.org",
        12,
    ),
    DemoTicket(
        "ZD-48213",
        "Leveransadress för beställning",
        "question",
        "pending",
        "linnea.akerblom@example.fi",
        21,
    ),
)


def customer_by_email(email: str) -> DemoCustomer:
    for customer in CUSTOMERS:
        if customer.email == email:
            return customer
    raise LookupError(f"no demo customer with e-mail {email}")
