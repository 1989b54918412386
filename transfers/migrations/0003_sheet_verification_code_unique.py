# The codes are filled in by 0002; made unique in a migration of its own so that
# no schema change shares a transaction with the rows just updated (PostgreSQL).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("transfers", "0002_sheet_verification"),
    ]

    operations = [
        migrations.AlterField(
            model_name="informationsheet",
            name="verification_code",
            field=models.CharField(max_length=16, unique=True, verbose_name="验证码"),
        ),
    ]
