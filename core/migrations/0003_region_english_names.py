"""Regions gain English names (pinyin), shown on English pages. Every region
the portal seeds (enrollment.policy_data.REGIONS: 合肥, 北京, 青岛, 福州) is
filled here; any other region gets its province's English name from its code
and keeps a blank English name (the Chinese one is shown) until staff add it."""

from django.db import migrations, models

# The seeded regions, as they stood when this migration was written.
NAMES = {
    "340100": ("Hefei", "Anhui"),
    "110000": ("Beijing", "Beijing"),
    "370200": ("Qingdao", "Shandong"),
    "350100": ("Fuzhou", "Fujian"),
}
PROVINCES = {
    "11": "Beijing", "12": "Tianjin", "13": "Hebei", "14": "Shanxi",
    "15": "Inner Mongolia", "21": "Liaoning", "22": "Jilin", "23": "Heilongjiang",
    "31": "Shanghai", "32": "Jiangsu", "33": "Zhejiang", "34": "Anhui",
    "35": "Fujian", "36": "Jiangxi", "37": "Shandong", "41": "Henan",
    "42": "Hubei", "43": "Hunan", "44": "Guangdong", "45": "Guangxi",
    "46": "Hainan", "50": "Chongqing", "51": "Sichuan", "52": "Guizhou",
    "53": "Yunnan", "54": "Xizang", "61": "Shaanxi", "62": "Gansu",
    "63": "Qinghai", "64": "Ningxia", "65": "Xinjiang",
}


def fill(apps, schema_editor):
    Region = apps.get_model("core", "Region")
    for region in Region.objects.all():
        name, province = NAMES.get(region.code, ("", PROVINCES.get(region.code[:2], "")))
        if not name and region.code.endswith("0000"):
            name = province  # a municipality: 上海市 → Shanghai
        region.name_en = region.name_en or name
        region.province_en = region.province_en or province
        region.save(update_fields=["name_en", "province_en"])


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0002_seed_calendar'),
    ]

    operations = [
        migrations.AddField(
            model_name='region',
            name='name_en',
            field=models.CharField(blank=True, max_length=50, verbose_name='英文名称'),
        ),
        migrations.AddField(
            model_name='region',
            name='province_en',
            field=models.CharField(blank=True, max_length=50, verbose_name='省份英文名称'),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
