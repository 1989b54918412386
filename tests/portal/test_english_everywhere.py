"""Issue 14, "every string in both languages": each citizen page (and the
inbox's messages) read in English shows no Chinese, save what is Chinese by
nature: people's names and the switcher's own "中文" label. Places have
English names (core.models.Region, core.places.PROVINCES) and show them."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.translation import gettext_noop

from enrollment.models import Scheme
from payments import services as payments
from people.models import Person, Role
from people.services import notify
from records import services as records
from tests.factories import (
    EnrollmentFactory,
    StaffFactory,
    UserFactory,
    family_link,
    region,
)
from tests.transfers.scenario import IN, OUT, ready_person
from transfers import services as transfers

pytestmark = pytest.mark.django_db

NOT_FOUND = "/no-such-page/"
HAN = re.compile(r"[\u4e00-\u9fff]+")

# Chinese by nature, allowed on an English page (besides the world's person
# names, collected from the database):
ALLOWED = [
    # The language switcher names the other language in that language.
    "简体中文",
    "中文",
]
# Left for now, page by page: text still without its English.
# Page-specific allowances beyond names, places and the switcher: none.
ALLOWED_ON: dict[str, list[str]] = {}


@pytest.fixture
def world(db, time_machine):
    # Registration for next year is open in December (the check page below).
    time_machine.move_to(dt.datetime(2026, 12, 1, 10, tzinfo=dt.UTC), tick=False)
    hefei = region(OUT)
    region(IN)
    owner = UserFactory(person__region=hefei)
    child = UserFactory(person__region=hefei).person
    family_link(owner.person, child)
    staff = StaffFactory(role=Role.CLERK, region=hefei)

    resident = EnrollmentFactory(person=owner.person, year=2026)
    flexible = EnrollmentFactory(
        person=owner.person,
        year=2027,
        scheme=Scheme.FLEXIBLE,
        category="",
        contribution_base=Decimal("5000.00"),
    )
    payment = payments.payment_counter(
        staff=staff, enrollment_id=resident.pk, idempotency_key="english-key-0001"
    )
    assert payment.status == "success"

    mover, _out, _in = ready_person(kind="e2e")
    family_link(owner.person, mover)
    transfer = transfers.transfer_apply(
        person_id=mover.pk,
        name=mover.name,
        id_number=mover.id_number,
        kind="e2e",
        outgoing_region_code=OUT,
        incoming_region_code=IN,
    )
    for _step in range(2):
        transfers.transfer_run_step(transfer_id=transfer.pk, claimed=True)
    transfer.refresh_from_db()

    today = dt.date.today()
    filing = records.filing_create(
        actor=owner,
        person_id=owner.person.pk,
        reason="other",
        destination_code="110000",
        start_on=today,
        commitment=True,
    )
    certificate = records.certificate_issue(actor=owner, person_id=owner.person.pk)
    notify(
        person=owner.person,
        subject=gettext_noop("%(name)s 申请与您绑定家庭共济"),
        params={"name": child.name},
    )
    notify(
        person=owner.person,
        subject=gettext_noop("退费已原路退回：%(amount)s"),
        params={"amount": Decimal("420.00")},
    )
    return {
        "owner": owner,
        "child": child,
        "resident": resident,
        "flexible": flexible,
        "payment": payment,
        "transfer": transfer,
        "filing": filing,
        "certificate": certificate,
    }


def pages(w):
    payment, transfer = w["payment"], w["transfer"]
    filing, certificate = w["filing"], w["certificate"]
    person_id = w["owner"].person.pk
    return [
        reverse("portal:home"),
        reverse("portal:status"),
        reverse("enrollment:start"),
        reverse("enrollment:resident"),
        reverse("enrollment:newborn"),
        reverse("enrollment:flexible"),
        reverse("enrollment:coverage"),
        reverse("enrollment:suspend"),
        reverse("enrollment:done", args=[w["resident"].pk]),
        reverse("enrollment:suspend_confirm", args=[w["resident"].pk]),
        reverse("payments:history"),
        reverse("payments:pay", args=[w["flexible"].pk]),
        reverse("payments:proxy"),
        reverse("payments:detail", args=[payment.pk]),
        reverse("payments:receipt", args=[payment.pk]),
        reverse("payments:verify"),
        reverse("payments:verify") + f"?code={payment.receipt.verification_code}",
        reverse("payments:family"),
        reverse("transfers:list"),
        reverse("transfers:apply"),
        reverse("transfers:detail", args=[transfer.pk]),
        reverse("transfers:confirmation", args=[transfer.pk]),
        reverse("transfers:sheet", args=[transfer.pk]),
        reverse("transfers:sheet_verify"),
        reverse("transfers:sheet_verify") + f"?code={transfer.sheet.verification_code}",
        reverse("records:filing_list"),
        reverse("records:filing_new"),
        reverse("records:filing_detail", args=[filing.pk]),
        reverse("records:filing_done", args=[filing.pk]),
        reverse("records:certificate_list"),
        reverse("records:certificate_detail", args=[certificate.pk]),
        reverse("records:account"),
        reverse("records:account_person", args=[person_id]),
        reverse("records:years"),
        reverse("records:years_person", args=[person_id]),
        reverse("records:verify"),
        reverse("records:verify") + f"?code={certificate.verification_code}",
        reverse("records:verify") + f"?code={filing.verification_code}",
        reverse("people:family"),
        reverse("people:inbox"),
        NOT_FOUND,
    ]


def allowed_words():
    # Persons have no English name (the portal has no addresses to show).
    names = list(Person.objects.values_list("name", flat=True))
    return sorted({n for n in names + ALLOWED if n}, key=len, reverse=True)


def leftovers(url: str, text: str, allowed) -> list[str]:
    # Scripts and styles are not read; the rest is, attributes included.
    text = re.sub(r"<(script|style)\b.*?</\1>", "", text, flags=re.S)
    for word in [*ALLOWED_ON.get(url, []), *allowed]:
        text = text.replace(word, "")
    # A masked name (测**) on the public verification pages is a name too.
    text = re.sub(r"[\u4e00-\u9fff]\*+", "", text)
    found = []
    for match in HAN.finditer(text):
        around = text[max(0, match.start() - 60) : match.end() + 60]
        found.append(f"{url}: {match.group()!r} in …{' '.join(around.split())}…")
    return found


def test_every_citizen_page_reads_in_english_without_chinese(client, world):
    client.force_login(world["owner"])
    client.cookies["django_language"] = "en"
    allowed = allowed_words()
    found = []
    for url in pages(world):
        response = client.get(url)
        expected = 404 if url == NOT_FOUND else 200
        assert response.status_code == expected, (url, response.status_code)
        found += leftovers(url, response.content.decode(), allowed)
    # Check your answers, and a refusal beside its field.
    child, owner = world["child"].pk, world["owner"].person.pk
    posts = [
        (
            reverse("enrollment:resident"),
            {"person": child, "year": 2027, "region": "340100", "category": "ordinary"},
            200,
        ),
        (
            reverse("enrollment:resident"),
            {"person": owner, "year": 2026, "region": "340100", "category": "ordinary"},
            400,
        ),
        (
            reverse("enrollment:flexible"),
            {"person": child, "year": 2027, "region": "340100", "base": "6000.00"},
            200,
        ),
        (
            reverse("enrollment:suspend_confirm", args=[world["resident"].pk]),
            {"reason": "move"},
            200,
        ),
    ]
    for url, answers, expected in posts:
        response = client.post(url, answers)
        assert response.status_code == expected, (url, answers, response.status_code)
        found += leftovers(f"POST {url}", response.content.decode(), allowed)
    assert not found, "\n".join(found)


def test_places_are_named_in_english_on_english_pages(client, world):
    client.force_login(world["owner"])
    client.cookies["django_language"] = "en"
    coverage = client.get(reverse("enrollment:coverage")).content.decode()
    assert "Hefei" in coverage
    filing = reverse("records:filing_detail", args=[world["filing"].pk])
    assert "Beijing" in client.get(filing).content.decode()
    inbox = client.get(reverse("people:inbox")).content.decode()
    assert "Beijing" in inbox  # the filing's message, its place filled in when read
    form = client.get(reverse("records:filing_new")).content.decode()
    assert "Guangdong" in form and "Qingdao, Shandong" in form
