"""Seed the working-day calendar from the chinesecalendar package: every holiday
and make-up working day (调休) it knows, and its years marked published."""

from django.db import migrations


NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def seed(apps, schema_editor):
    import chinese_calendar

    CalendarDay = apps.get_model("core", "CalendarDay")
    CalendarYear = apps.get_model("core", "CalendarYear")
    rows = {}
    for day, name in chinese_calendar.holidays.items():
        if day.weekday() < 5:  # a weekend holiday is a weekend already
            rows[day] = CalendarDay(date=day, is_working_day=False, note=NAMES.get(str(name), str(name))[:50])
    for day, name in chinese_calendar.workdays.items():
        if day.weekday() >= 5:  # a make-up working day on a weekend
            rows[day] = CalendarDay(date=day, is_working_day=True, note=f"{NAMES.get(str(name), str(name))}调休上班"[:50])
    CalendarDay.objects.bulk_create(rows.values(), ignore_conflicts=True, batch_size=500)
    years = sorted({day.year for day in chinese_calendar.holidays})
    CalendarYear.objects.bulk_create(
        [CalendarYear(year=year, published=True, note="chinesecalendar") for year in years], ignore_conflicts=True
    )


def unseed(apps, schema_editor):
    apps.get_model("core", "CalendarDay").objects.all().delete()
    apps.get_model("core", "CalendarYear").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
