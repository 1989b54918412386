"""异地就医备案 and 参保证明 in a real browser: file for a trip (check your
answers, confirmation), download the filing certificate and verify it on the
public page; issue a 参保证明, download it and verify it; the account and
contribution-years pages on a phone."""

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine

from payments.models import EntryKind
from payments.services import account_get_or_create, account_post
from records.models import Filing, FilingStatus, InsuranceCertificate
from tests import factories
from tests.e2e.conftest import PHONE, no_horizontal_scroll, overflowing
from tests.records.conftest import covered, months

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def log_in(page, user):
    page.goto("/login/")
    page.locator("#id_username").fill(user.mobile)
    page.locator("#id_password").fill("pass-Word-123")
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/")


@pytest.fixture
def insured():
    """A resident of 合肥 covered through 2026, with months and an account."""
    user = factories.UserFactory(
        person__name="林静", person__region=factories.region("340100")
    )
    covered(user.person)
    months(user.person, actual=60, deemed=12)
    account = account_get_or_create(person_id=user.person.pk, region_code="340100")
    account_post(
        account_id=account.pk,
        amount=Decimal("1200.00"),
        kind=EntryKind.CONTRIBUTION,
        reference="e2e-records-seed",
    )
    return user


def verify(page, code):
    page.goto("/records/verify/")
    page.get_by_label("验证码").fill(code.lower())
    page.get_by_role("button", name="核验").click()
    page.wait_for_url(re.compile(r".*/records/verify/\?code=.*"))
    return page.inner_text("main")


def test_file_download_and_verify_then_a_certificate_of_insurance(
    new_page, shot, insured
):
    person = insured.person
    with time_machine.travel(TODAY, tick=True):
        page = new_page(viewport=PHONE)
        log_in(page, insured)
        page.get_by_role("link", name="异地就医备案").first.click()
        page.get_by_role("link", name="办理异地就医备案").click()
        page.get_by_label("转诊转院").check()
        page.locator("#id_destination").select_option("110000")
        assert no_horizontal_scroll(page), overflowing(page)
        shot(page, "records-filing-form-zh-390")
        page.get_by_role("button", name="继续").click()
        assert "请核对备案信息" in page.inner_text("main")
        assert "北京市" in page.inner_text("main")
        shot(page, "records-filing-check-zh-390")
        page.get_by_role("button", name="确认备案").click()
        page.wait_for_url(re.compile(r".*/records/filings/\d+/done/$"))

        filing = Filing.objects.get(person=person)
        assert filing.status == FilingStatus.ACTIVE
        confirmation = page.inner_text("main")
        assert filing.number in confirmation
        assert filing.verification_code in confirmation
        assert no_horizontal_scroll(page), overflowing(page)
        shot(page, "records-filing-done-zh-390")
        with page.expect_download() as download_info:
            page.get_by_role("link", name="下载备案凭证").click()
        assert download_info.value.path().read_bytes().startswith(b"%PDF")

        # Anyone holding the code: a hospital clerk, not signed in.
        clerk = new_page()
        text = verify(clerk, filing.verification_code)
        assert "这是真实的异地就医备案凭证" in text
        assert filing.number in text and "备案有效" in text
        assert person.name not in text and person.id_number not in clerk.content()
        shot(clerk, "records-filing-verify-zh-1280")

        # 参保证明 for oneself.
        page.goto("/")
        page.get_by_role("link", name="参保证明").first.click()
        page.get_by_role("button", name="开具参保证明").first.click()
        page.wait_for_url(re.compile(r".*/records/certificates/\d+/$"))
        certificate = InsuranceCertificate.objects.get(person=person)
        text = page.inner_text("main")
        assert certificate.verification_code in text
        assert "城乡居民医保" in text and "实际缴费 60 个月" in text
        assert no_horizontal_scroll(page), overflowing(page)
        shot(page, "records-certificate-zh-390")
        with page.expect_download() as download_info:
            page.get_by_role("link", name="下载PDF参保证明").click()
        assert download_info.value.path().read_bytes().startswith(b"%PDF")

        text = verify(clerk, certificate.verification_code)
        assert "这是真实的参保证明" in text and certificate.number in text
        assert "合肥市" in text and person.name not in text
        shot(clerk, "records-certificate-verify-zh-1280")

        # 个人账户 and 缴费年限 on a phone.
        page.goto("/")
        page.get_by_role("link", name="个人账户").first.click()
        assert "¥1,200.00" in page.inner_text("main")
        assert no_horizontal_scroll(page), overflowing(page)
        shot(page, "records-account-zh-390")
        page.goto("/")
        page.get_by_role("link", name="缴费年限").first.click()
        text = page.inner_text("main")
        assert "6年" in text and "19年" in text  # 72 months so far; 228 to go
        assert no_horizontal_scroll(page), overflowing(page)
        shot(page, "records-years-zh-390")
