"""Every citizen page measured with axe-core against WCAG 2.2 AA (UX.md), in
Chinese and English, with care mode (关怀模式) off and on: forms, their
check-your-answers pages and forms showing their errors, lists, records,
receipts, the public verification pages, /status/ and the 404 page.

One browser, one context per language and care mode, signed in once; the
pages come from one family with something on every page (a transfer with its
sheet, payments with receipts, a filing, a certificate, a pending request).
The four contexts run side by side (Playwright's async API, in a thread of
its own), so the run costs little more than one of them."""

import asyncio
import datetime as dt
import re
import threading
from dataclasses import dataclass

import pytest
import time_machine

from core.identity import make_id_number
from people.models import AuthorityStatus
from records import services as records
from tests import factories
from tests.e2e.axe import RUN_AXE, WCAG_TAGS, axe_required, collect, describe
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from transfers import demo
from transfers import services as transfers

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
MOBILE = "13912340001"
SIGNUP_NAME = "赵新"
SIGNUP_ID = make_id_number("340102", dt.date(1992, 3, 8), 322)
NEWBORN_NAME = "林小满"
NEWBORN_CERTIFICATE = "Q340999001"


@dataclass
class World:
    user: object
    child: object
    spouse: object
    newborn_id: str
    pay_enrollment: object
    payment: object
    receipt_code: str
    suspendable: object
    suspended: object
    transfer: object
    sheet_code: str
    filing: object
    certificate: object


def build_world() -> World:
    """林晓 of 合肥, moving to 北京 (a transfer with its sheet issued), with a
    child (2026 paid at the counter, 2027 to pay), a spouse with nothing yet,
    a newborn in the registry, and her mother asking for authority."""
    from payments.forms import new_key
    from payments.models import Receipt
    from payments.services import payment_counter

    for code in ("340100", "110000"):
        for year in (2026, 2027):
            factories.policy(code, year)
    hefei = factories.region("340100")
    clerk = factories.StaffFactory(region=hefei)
    user = factories.UserFactory(
        mobile=MOBILE, person__name="林晓", person__sex="F", person__region=hefei
    )
    person = user.person
    child = factories.PersonFactory(
        name="林小禾", birth_date=dt.date(2015, 6, 1), region=hefei
    )
    factories.family_link(person, child, "child")
    spouse = factories.PersonFactory(name="高阳", region=hefei)
    factories.family_link(person, spouse, "spouse")
    covered = factories.EnrollmentFactory(person=spouse, year=2026)
    payment_counter(staff=clerk, enrollment_id=covered.pk, idempotency_key=new_key())
    mother = factories.PersonFactory(name="林秀兰", birth_date=dt.date(1960, 2, 2))
    factories.family_link(mother, person, "child", status=AuthorityStatus.PENDING)
    newborn_id = make_id_number("340104", TODAY.date() - dt.timedelta(days=40), 216)
    factories.registry_person(
        name=NEWBORN_NAME,
        id_number=newborn_id,
        birth_certificate=NEWBORN_CERTIFICATE,
        mother_id_number=person.id_number,
    )
    factories.registry_person(name=SIGNUP_NAME, id_number=SIGNUP_ID)

    paid = factories.EnrollmentFactory(person=child, year=2026)
    payment = payment_counter(
        staff=clerk, enrollment_id=paid.pk, idempotency_key=new_key()
    )
    pay_enrollment = factories.EnrollmentFactory(person=child, year=2027)

    # Flexible work suspended at 合肥, enrolled at 北京; the transfer's sheet issued.
    demo._ready(person, "340100", "110000", 2026, 0)
    suspended = person.enrollments.get(region_id="340100")
    suspendable = person.enrollments.get(region_id="110000")
    transfer = transfers.transfer_apply(
        person_id=person.pk,
        name=person.name,
        id_number=person.id_number,
        kind="e2e",
        outgoing_region_code="340100",
        incoming_region_code="110000",
        applicant=user,
    )
    transfers.transfer_issue_sheet(transfer_id=transfer.pk)
    transfer.refresh_from_db()

    filing = records.filing_create(
        actor=user,
        person_id=child.pk,
        reason="referral",
        destination_code="110000",
        start_on=TODAY.date(),
    )
    certificate = records.certificate_issue(actor=user, person_id=child.pk)
    return World(
        user=user,
        child=child,
        spouse=spouse,
        newborn_id=newborn_id,
        pay_enrollment=pay_enrollment,
        payment=payment,
        receipt_code=Receipt.objects.get(payment=payment).verification_code,
        suspendable=suspendable,
        suspended=suspended,
        transfer=transfer,
        sheet_code=transfer.sheet.verification_code,
        filing=filing,
        certificate=certificate,
    )


COMBOS = [("zh-hans", False), ("zh-hans", True), ("en", False), ("en", True)]


# The live server shares one in-memory SQLite connection between its
# threads: two requests writing at once fail ("database table is locked").
# The contexts take turns at the server; axe runs side by side.
SERVER = threading.local()


async def submit(page, form="main form[method=post]"):
    """Click the form's submit button and wait for the page it leads to."""
    async with SERVER.turn:
        async with page.expect_navigation(wait_until="domcontentloaded"):
            await page.locator(form).last.locator("button[type=submit]").last.click()


async def confirm_step(page):
    """A check-your-answers page: its form confirms what was sent."""
    assert await page.locator("input[name=step][value=confirm]").count() == 1, (
        await page.inner_text("main")
    )


async def goto(page, path: str) -> None:
    async with SERVER.turn:
        response = await page.goto(path, wait_until="domcontentloaded")
    assert response.status < 500, path


def anonymous_steps(w: World, combo: int):
    """Pages before signing in: a path, or a journey that checks its pages
    with `check(name)` as it goes."""

    async def password_reset(page, check):
        await goto(page, "/password-reset/")
        await check("password-reset")
        # A number of its own per context: one number gets one code a minute.
        await page.locator("#id_mobile").fill(f"1391234880{combo}")
        await submit(page)
        assert "/password-reset/verify/" in page.url
        await check("password-reset-verify")

    async def signup(page, check):
        await goto(page, "/signup/")
        await check("signup")
        await page.locator("#id_id_number").fill("340104199001011237")
        await submit(page)
        assert await page.locator(".error-summary").count()
        await check("signup-errors")
        await page.locator("#id_name").fill(SIGNUP_NAME)
        await page.locator("#id_id_number").fill(SIGNUP_ID)
        await page.locator("#id_mobile").fill(f"1391234990{combo}")
        await submit(page)
        assert "/signup/verify/" in page.url
        await check("signup-verify")

    return [
        ("home", "/"),
        ("login", "/login/"),
        ("password-reset", password_reset),
        ("signup", signup),
        ("status", "/status/"),
        ("404", "/no-such-page/"),
        ("payment-verify", f"/payments/verify/?code={w.receipt_code}"),
        ("payment-verify-form", "/payments/verify/"),
        ("sheet-verify", f"/transfers/sheet/verify/?code={w.sheet_code}"),
        ("records-verify", f"/records/verify/?code={w.certificate.verification_code}"),
    ]


def citizen_steps(w: World):
    """Pages once signed in as 林晓 (forms, then their check pages)."""

    async def resident(page, check):
        await goto(page, "/enrollment/resident/")
        await check("enroll-resident")
        await page.locator("#id_person").select_option(str(w.spouse.pk))
        await page.locator("#id_year").select_option("2027")
        await page.locator("#id_region").select_option("340100")
        await submit(page)
        await confirm_step(page)
        await check("enroll-resident-check")

    async def newborn(page, check):
        await goto(page, "/enrollment/newborn/")
        await check("enroll-newborn")
        await page.locator("#id_name").fill(NEWBORN_NAME)
        await page.locator("#id_id_number").fill(w.newborn_id)
        await page.locator("#id_birth_certificate").fill(NEWBORN_CERTIFICATE)
        await page.locator("#id_region").select_option("340100")
        await submit(page)
        await confirm_step(page)
        await check("enroll-newborn-check")

    async def flexible(page, check):
        await goto(page, "/enrollment/flexible/")
        await check("enroll-flexible")
        await page.locator("#id_base").fill("abc")
        await submit(page)
        assert await page.locator(".error-summary").count()
        await check("enroll-flexible-errors")
        await page.locator("#id_person").select_option(str(w.user.person.pk))
        await page.locator("#id_year").select_option("2027")
        await page.locator("#id_region").select_option("110000")
        await page.locator("#id_base").fill("12000")
        await submit(page)
        await confirm_step(page)
        await check("enroll-flexible-check")

    async def suspend(page, check):
        await goto(page, f"/enrollment/{w.suspendable.pk}/suspend/")
        await check("suspend-form")
        await page.locator("main input[type=radio]").first.check()
        await submit(page)
        await confirm_step(page)
        await check("suspend-check")

    async def transfer_apply(page, check):
        await goto(page, "/transfers/apply/")
        await check("transfer-apply")
        await page.locator("#id_id_number").fill(w.user.person.id_number)
        await page.locator("input[name=kind]").first.check()
        await page.locator("#id_outgoing_region").select_option("340100")
        await page.locator("#id_incoming_region").select_option("110000")
        await submit(page)  # refused: a transfer is already open
        assert await page.locator(".error-summary").count()
        await check("transfer-apply-errors")

    async def filing(page, check):
        await goto(page, "/records/filings/new/")
        await check("filing-new")
        await page.locator("#id_person").select_option(str(w.spouse.pk))
        await page.locator("input[name=reason][value=referral]").check()
        await page.locator("#id_destination").select_option("110000")
        await submit(page)
        assert await page.locator("button[name=confirm]").count() == 1, (
            await page.inner_text("main")
        )
        await check("filing-check")

    t, f = w.transfer.pk, w.filing.pk
    return [
        ("home-signed-in", "/"),
        ("family", "/family/"),
        ("inbox", "/inbox/"),
        ("enroll-start", "/enrollment/"),
        ("enroll-resident", resident),
        ("enroll-newborn", newborn),
        ("enroll-flexible", flexible),
        ("enroll-done", f"/enrollment/{w.pay_enrollment.pk}/done/"),
        ("enroll-cancel", f"/enrollment/{w.pay_enrollment.pk}/cancel/"),
        ("coverage", "/enrollment/coverage/"),
        ("suspend-list", "/enrollment/suspend/"),
        ("suspend", suspend),
        ("suspend-done", f"/enrollment/{w.suspended.pk}/suspend/"),
        ("resume", f"/enrollment/{w.suspended.pk}/resume/"),
        ("payments-history", "/payments/?year=all"),
        ("pay", f"/payments/pay/{w.pay_enrollment.pk}/"),
        ("payment-detail", f"/payments/p/{w.payment.pk}/"),
        ("receipt", f"/payments/p/{w.payment.pk}/receipt/"),
        ("proxy", "/payments/proxy/"),
        ("payments-family", "/payments/family/"),
        ("transfers", "/transfers/"),
        ("transfer-apply", transfer_apply),
        ("transfer-detail", f"/transfers/{t}/"),
        ("transfer-confirmation", f"/transfers/{t}/done/"),
        ("transfer-sheet", f"/transfers/{t}/sheet/"),
        ("filings", "/records/filings/"),
        ("filing-new", filing),
        ("filing-detail", f"/records/filings/{f}/"),
        ("filing-done", f"/records/filings/{f}/done/"),
        ("filing-cancel", f"/records/filings/{f}/cancel/"),
        ("certificates", "/records/certificates/"),
        ("certificate", f"/records/certificates/{w.certificate.pk}/"),
        ("account", "/records/account/"),
        ("account-child", f"/records/account/{w.child.pk}/"),
        ("years", "/records/years/"),
    ]


async def scan(browser, base_url: str, w: World, combo: int, axe_js) -> dict:
    """Every page in one language and care mode: {(rule, …): [pages]}."""
    language, care = COMBOS[combo]
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900},
        base_url=base_url,
        # The portal's CSP forbids inline scripts, as the injected axe is one.
        bypass_csp=True,
    )
    context.set_default_timeout(15000)
    await context.add_cookies(
        [{"name": "django_language", "value": language, "url": base_url}]
    )
    # Into every page as it loads: sent to the browser once per context.
    await context.add_init_script(path=axe_js)
    # The pages' own polling (a transfer's or payment's status) would reach
    # the server outside its turn; nothing here needs it.
    await context.route(
        re.compile(r".*/(status\.json|p/\d+/status/)$"), lambda route: route.abort()
    )
    page = await context.new_page()
    found: dict[tuple, list] = {}
    seen = []

    async def check(name):
        where = f"{name} {page.url.removeprefix(base_url)}"
        lang = await page.locator("html").get_attribute("lang")
        assert lang == ("en" if language == "en" else "zh-Hans"), where
        assert (await page.locator("body.care-mode").count() == 1) == care, where
        collect(found, where, await page.evaluate(RUN_AXE, WCAG_TAGS))
        seen.append(name)

    try:
        await goto(page, "/")
        if care:
            await submit(page, "form[action$='/care-mode/']")
        for phase in ("anonymous", "citizen"):
            if phase == "citizen":
                await goto(page, "/login/")
                await page.locator("#id_username").fill(w.user.mobile)
                await page.locator("#id_password").fill("pass-Word-123")
                await submit(page, "main form")
                assert await page.locator("form[action$='/logout/']").count(), page.url
            steps = (
                anonymous_steps(w, combo) if phase == "anonymous" else citizen_steps(w)
            )
            for name, how in steps:
                if callable(how):
                    await how(page, check)
                else:
                    await goto(page, how)
                    await check(name)
        # The measure measures: an unlabelled field added to the last page is
        # reported (a wrong tag list would run no rule and pass everything).
        await page.evaluate(
            "document.querySelector('main').insertAdjacentHTML("
            "'beforeend', '<input type=text id=unlabelled-probe>')"
        )
        probe = await page.evaluate(RUN_AXE, WCAG_TAGS)
        assert any(v["id"] == "label" for v in probe), probe
    finally:
        await context.close()
    assert len(seen) >= 55, seen
    return found


def scan_all(base_url: str, w: World) -> list[dict]:
    """The four contexts side by side in one browser, in a thread with its own
    event loop (the session's synchronous Playwright keeps its own)."""
    axe_js = axe_required()
    outcome: dict = {}

    async def main():
        from playwright.async_api import async_playwright

        SERVER.turn = asyncio.Lock()
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            )
            try:
                return await asyncio.gather(
                    *(
                        scan(browser, base_url, w, combo, axe_js)
                        for combo in range(len(COMBOS))
                    )
                )
            finally:
                await browser.close()

    def run():
        try:
            outcome["found"] = asyncio.run(main())
        except BaseException as error:  # noqa: BLE001 - re-raised in the test
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["found"]


def test_every_citizen_page_passes_axe_wcag_22_aa(live_server):
    axe_required()
    with time_machine.travel(TODAY, tick=True):
        w = build_world()
        results = scan_all(live_server.url, w)
    report = [
        f"[{language}, care mode {'on' if care else 'off'}] " + describe(found)
        for (language, care), found in zip(COMBOS, results, strict=True)
        if found
    ]
    assert not report, "\n\n".join(report)
