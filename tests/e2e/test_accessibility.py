"""Every citizen page measured with axe-core against WCAG 2.2 AA (UX.md), and
on a 390 px phone element by element (tests/e2e/phone.py), in Chinese and
English, with care mode (关怀模式) off and on: forms, their check-your-answers
pages and forms showing their errors, lists, records, receipts, the public
verification pages, /status/, sign-up and its SMS step, and the error pages
(400, 403, 404, 500, a refused form). Then the staff counter's pages, in
both languages (care mode is the citizens').

One browser, one context per language and care mode, signed in once; the
pages come from one family with something on every page (a transfer with its
sheet, payments with receipts, a filing, a certificate, a pending request).
Each page is checked with axe at 1280 px and element by element at 390 px
(widths, tables as cards), in whichever order saves a change of width. The
four contexts run side by side (Playwright's async API, in a thread of its
own), so the run costs little more than one of them."""

import asyncio
import datetime as dt
import os
import re
import threading
import time
from dataclasses import dataclass

import pytest
import time_machine
from django.urls import clear_url_caches

from core.identity import make_id_number
from people.models import AuthorityStatus, Role
from records import services as records
from tests import factories
from tests.e2e.axe import RUN_AXE, WCAG_TAGS, axe_required, collect, describe
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP
from tests.e2e.phone import PHONE, SLACK_PX, TABLE_CHECK, WIDTH_CHECK
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
    staff: object
    child: object
    spouse: object
    mover: object
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
    # A supervisor takes the payments: the staff pages show their day and its close.
    clerk = factories.StaffFactory(
        username="hefei_e2e_supervisor", role=Role.SUPERVISOR, region=hefei
    )
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
    # Her father, ready to move his flexible-work insurance to 北京 too.
    mover = factories.PersonFactory(
        name="林建国", birth_date=dt.date(1966, 4, 4), sex="M", region=hefei
    )
    factories.family_link(person, mover, "parent")
    demo._ready(mover, "340100", "110000", 2026, 1)
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
        staff=clerk,
        child=child,
        spouse=spouse,
        mover=mover,
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
# While fixing a page: `E2E_PAGES=coverage,counter-day` checks only the steps
# whose names contain one of these (the page count is then not checked).
ONLY = [name for name in os.environ.get("E2E_PAGES", "").split(",") if name]


# The live server shares one in-memory SQLite connection between its
# threads: two requests writing at once fail ("database table is locked").
# The contexts take turns at the server; axe runs side by side.
SERVER = threading.local()


async def submit(page, form="main form[method=post]"):
    """Click the form's submit button and wait for the page it leads to."""
    async with SERVER.turn:
        async with page.expect_navigation(wait_until="domcontentloaded"):
            await page.locator(form).last.locator("[type=submit]").last.click()


async def confirm_step(page):
    """A check-your-answers page: its form confirms what was sent."""
    assert await page.locator("input[name=step][value=confirm]").count() == 1, (
        await page.inner_text("main")
    )


async def goto(page, path: str, *, status: int | None = None) -> None:
    async with SERVER.turn:
        response = await page.goto(path, wait_until="domcontentloaded")
    if status is None:
        assert response.status < 500, path
    else:
        assert response.status == status, (path, response.status)


STAFF_FORM = "#content form[method=post]"


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

    async def login_refused(page, check):
        # A wrong password says so beside the form; enough of them lock the
        # number for a while (people.lockout), a number of its own per context.
        for attempt in range(10):
            await goto(page, "/login/")
            await page.locator("#id_username").fill(f"1391234660{combo}")
            await page.locator("#id_password").fill("wrong-Pass-1")
            await submit(page, "main form")
            if attempt == 0:
                await check("login-errors")
            if not await page.locator("main #id_username").count():
                break
        assert not await page.locator("main #id_username").count(), page.url
        await check("locked-out")

    async def errors(page, check):
        # tests/portal/urls_errors.py: the portal's URLs and three that fail.
        for code in (400, 403, 500):
            await goto(page, f"/test-errors/{code}/", status=code)
            await check(str(code))
        # A form sent without its CSRF token (a page kept open too long).
        await goto(page, "/login/")
        await page.evaluate(
            "document.querySelectorAll('input[name=csrfmiddlewaretoken]')"
            ".forEach(e => e.remove())"
        )
        await page.locator("#id_username").fill(w.user.mobile)
        await page.locator("#id_password").fill("wrong")
        await submit(page, "main form")
        await check("403-csrf")

    return [
        ("home", "/"),
        ("login", "/login/"),
        ("password-reset", password_reset),
        ("signup", signup),
        ("login-refused", login_refused),
        ("status", "/status/"),
        ("404", "/no-such-page/"),
        ("errors", errors),
        ("email-verify", "/account/email/verify/not-a-token/"),
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
        # For her father: check your answers.
        await goto(page, "/transfers/apply/")
        await page.locator("#id_person").select_option(str(w.mover.pk))
        await page.locator("#id_id_number").fill(w.mover.id_number)
        await page.locator("input[name=kind][value=e2e]").check()
        await page.locator("#id_outgoing_region").select_option("340100")
        await page.locator("#id_incoming_region").select_option("110000")
        await submit(page)
        assert await page.locator("button[name=confirm]").count() == 1, (
            await page.inner_text("main")
        )
        await check("transfer-check")

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
        ("email", "/account/email/"),
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
        ("years-child", f"/records/years/{w.child.pk}/"),
    ]


def staff_steps(w: World):
    """The counter's pages, signed in as 合肥's supervisor (forms, then their
    check pages; nothing confirmed)."""

    async def search(page, check):
        await goto(page, "/admin/staff/counter/")
        await check("counter")
        await page.locator("#id_name").fill(w.user.person.name)
        await submit(page, STAFF_FORM)
        await check("counter-search")

    async def enroll(page, check):
        await goto(page, f"/admin/staff/counter/person/{w.spouse.pk}/enroll/")
        await check("counter-enroll")
        await page.locator("#id_year").select_option("2027")
        await page.locator("#id_category").select_option("ordinary")
        await submit(page, STAFF_FORM)
        await check("counter-enroll-check")

    async def filing(page, check):
        await goto(page, f"/admin/staff/counter/person/{w.spouse.pk}/filing/")
        await check("counter-filing")
        await page.locator("input[name=reason][value=referral]").check()
        await page.locator("#id_destination").select_option("110000")
        await page.locator("#id_evidence_seen").fill("身份证原件；转诊证明")
        await submit(page, STAFF_FORM)
        await check("counter-filing-check")

    number = w.pay_enrollment.reference
    return [
        ("staff-home", "/admin/"),
        ("staff-dashboard", "/admin/staff/dashboard/"),
        ("counter", search),
        ("counter-person", f"/admin/staff/counter/person/{w.user.person.pk}/"),
        ("counter-person-child", f"/admin/staff/counter/person/{w.child.pk}/"),
        ("counter-register", "/admin/staff/counter/person/"),
        ("counter-enroll", enroll),
        (
            "counter-enrollment",
            f"/admin/staff/counter/enrollment/{w.pay_enrollment.pk}/",
        ),
        ("counter-pay-find", "/admin/staff/counter/pay/"),
        ("counter-pay-check", f"/admin/staff/counter/pay/?number={number}"),
        ("counter-receipt", f"/admin/staff/counter/receipt/{w.payment.pk}/"),
        ("counter-filing", filing),
        ("counter-filing-done", f"/admin/staff/counter/filing/{w.filing.pk}/"),
        ("counter-authority", "/admin/staff/counter/authority/"),
        ("counter-day", "/admin/staff/counter/day/"),
        ("day-close", "/admin/staff/counter/day-close/"),
    ]


@dataclass
class Found:
    """What one context found: axe's violations, and what does not fit a phone."""

    axe: dict
    narrow: dict
    pages: int = 0
    seconds: dict | None = None  # spent in axe and in the phone check


async def scan(browser, base_url: str, w: World, combo: int, axe_js) -> Found:
    """Every page in one language and care mode."""
    language, care = COMBOS[combo]
    context = await browser.new_context(
        viewport=DESKTOP,
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
    narrow: dict[str, list] = {}
    seen = []
    seconds = {"axe": 0.0, "phone": 0.0}
    # Pages are measured at both widths in turn, starting from the width the
    # page was loaded at: one change of width per page, not two.
    width = {"phone": False}

    async def axe(where):
        started = time.monotonic()
        collect(found, where, await page.evaluate(RUN_AXE, WCAG_TAGS))
        seconds["axe"] += time.monotonic() - started

    async def phone(where):
        started = time.monotonic()
        problems = await page.evaluate(WIDTH_CHECK, SLACK_PX)
        problems += await page.evaluate(TABLE_CHECK)
        for problem in problems:
            narrow.setdefault(problem, []).append(where)
        seconds["phone"] += time.monotonic() - started

    async def check(name):
        where = f"{name} {page.url.removeprefix(base_url)}"
        lang = (await page.locator("html").get_attribute("lang")).lower()
        assert lang.startswith("en" if language == "en" else "zh"), (where, lang)
        # The 500 page asks nothing of the session (whatever failed).
        if name != "500":
            care_on = await page.locator("body.care-mode").count() == 1
            assert care_on == care, where
        if width["phone"]:
            await phone(where)
            await page.set_viewport_size(DESKTOP)
            await axe(where)
        else:
            await axe(where)
            await page.set_viewport_size(PHONE)
            await phone(where)
        width["phone"] = not width["phone"]
        seen.append(name)

    try:
        await goto(page, "/")
        if care:
            await submit(page, "form[action$='/care-mode/']")
        # Care mode is the citizens': the staff pages once per language.
        phases = ("anonymous", "citizen") + (() if care else ("staff",))
        for phase in phases:
            if phase == "citizen":
                await goto(page, "/login/")
                await page.locator("#id_username").fill(w.user.mobile)
                await page.locator("#id_password").fill("pass-Word-123")
                await submit(page, "main form")
                assert await page.locator("form[action$='/logout/']").count(), page.url
            if phase == "staff":
                await goto(page, "/admin/login/?next=/admin/")
                await page.locator("#id_username").fill(w.staff.username)
                await page.locator("#id_password").fill("pass-Word-123")
                await submit(page, "#login-form")
                assert page.url.endswith("/admin/"), page.url
            steps = {
                "anonymous": anonymous_steps(w, combo),
                "citizen": citizen_steps(w),
                "staff": staff_steps(w),
            }[phase]
            for name, how in steps:
                if ONLY and not any(part in name for part in ONLY):
                    continue
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
        # So does the phone check: a box too wide and a table left as a table.
        await page.set_viewport_size(PHONE)
        await page.evaluate(
            "document.querySelector('main, #content').insertAdjacentHTML('beforeend',"
            ' \'<div id=wide-probe style="width: 600px">x</div><table id=table-probe>'
            "<thead><tr><th>h</th></tr></thead><tbody><tr><td>v</td></tr></tbody>"
            "</table>')"
        )
        probe = await page.evaluate(WIDTH_CHECK, SLACK_PX)
        probe += await page.evaluate(TABLE_CHECK)
        assert any("wide-probe" in p for p in probe), probe
        assert any("table-probe" in p for p in probe), probe
    finally:
        await context.close()
    assert ONLY or len(seen) >= (65 if care else 84), seen
    return Found(axe=found, narrow=narrow, pages=len(seen), seconds=seconds)


def scan_all(base_url: str, w: World) -> list[Found]:
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


def describe_narrow(narrow: dict[str, list]) -> str:
    lines = [f"{len(narrow)} elements do not fit a {PHONE['width']} px phone:"]
    for problem, pages in narrow.items():
        shown = ", ".join(pages[:4]) + (
            f" (+{len(pages) - 4})" if len(pages) > 4 else ""
        )
        lines.append(f"- {problem}\n    on: {shown}")
    return "\n".join(lines)


@pytest.fixture
def error_urls(settings):
    """The portal's URLs and three that fail on purpose (tests/portal)."""
    settings.ROOT_URLCONF = "tests.portal.urls_errors"
    clear_url_caches()
    yield
    clear_url_caches()


def test_every_page_passes_axe_wcag_22_aa_and_fits_a_phone(live_server, error_urls):
    axe_required()
    with time_machine.travel(TODAY, tick=True):
        w = build_world()
        results = scan_all(live_server.url, w)
    # Where the time goes (shown with -s): pages, seconds in axe and in the phone check.
    for (language, care), found in zip(COMBOS, results, strict=True):
        print(
            f"{language} care={care}: {found.pages} pages,"
            f" axe {found.seconds['axe']:.0f} s, phone {found.seconds['phone']:.0f} s"
        )
    report = []
    for (language, care), found in zip(COMBOS, results, strict=True):
        where = f"[{language}, care mode {'on' if care else 'off'}] "
        if found.axe:
            report.append(where + describe(found.axe))
        if found.narrow:
            report.append(where + describe_narrow(found.narrow))
    assert not report, "\n\n".join(report)
