"""Place names in the page's language (core.places, core.models.Region): the
seeded regions and every province have an English name, shown on English
pages, in form choices and in messages; Chinese pages keep the Chinese."""

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory
from django.utils import translation

from core.models import Region
from core.places import PROVINCES, place_name, region_names
from enrollment.policy_data import REGIONS
from people.models import msg_place, msg_render
from tests.factories import region

pytestmark = pytest.mark.django_db


def test_every_seeded_region_and_province_has_an_english_name():
    region("340100")  # seeds them all
    for code, name, province, name_en, province_en in REGIONS:
        found = Region.objects.get(code=code)
        assert (found.name, found.province) == (name, province)
        assert found.name_en == name_en and found.province_en == province_en
        assert name_en.isascii() and province_en.isascii()
    assert all(en.isascii() and en for _zh, en in PROVINCES.values())
    assert len(PROVINCES) == 31


def test_a_region_shows_the_name_of_the_page_language():
    hefei = region("340100")
    with translation.override("zh-hans"):
        assert (hefei.display_name, hefei.display_province) == ("合肥市", "安徽省")
        assert str(hefei) == "合肥市（340100）"
        assert hefei.display_place == "安徽省合肥市"
    with translation.override("en"):
        assert (hefei.display_name, hefei.display_province) == ("Hefei", "Anhui")
        assert str(hefei) == "Hefei (340100)"
        assert hefei.display_place == "Hefei, Anhui"
        assert region("110000").display_place == "Beijing"


def test_a_region_without_an_english_name_shows_its_chinese_name():
    hefei = region("340100")
    hefei.name_en = hefei.province_en = ""
    with translation.override("en"):
        assert hefei.display_name == "合肥市"
        # The province's English name is known from the code.
        assert hefei.display_province == "Anhui"


def test_a_stored_place_name_is_shown_as_stored_in_chinese_and_by_code_in_english():
    region("340100")
    with translation.override("zh-hans"):
        assert place_name("340100", "安徽省合肥市") == "安徽省合肥市"
        assert region_names(["340100"]) == {}
    with translation.override("en"):
        assert place_name("340100", "安徽省合肥市") == "Hefei, Anhui"
        assert place_name("440000", "广东省") == "Guangdong"
        assert place_name("449900", "某地") == "某地"  # unknown: as stored
        assert region_names(["340100", "999999"]) == {"340100": "Hefei"}


def test_a_message_names_its_place_in_the_readers_language():
    region("340100")
    params = {"destination": msg_place("340100", "安徽省合肥市")}
    template = "异地就医备案成功：%(destination)s"
    with translation.override("zh-hans"):
        assert msg_render(template, params) == "异地就医备案成功：安徽省合肥市"
    with translation.override("en"):
        assert "Hefei, Anhui" in msg_render(template, params)


def test_region_choices_follow_the_language():
    from enrollment.forms import ResidentEnrollmentForm

    regions = [region("340100"), region("110000")]
    with translation.override("en"):
        form = ResidentEnrollmentForm(persons=[], years=[2026], regions=regions)
        labels = [label for _code, label in form.fields["region"].choices]
    assert labels[1:] == ["Hefei", "Beijing"]


def test_the_region_admin_form_has_the_english_names(admin_user):
    request = RequestFactory().get("/")
    request.user = admin_user
    form = site._registry[Region].get_form(request, region("340100"))
    assert {"name_en", "province_en"} <= set(form.base_fields)
