"""The information sheet gets a verification code and a signature (issue 11);
the outgoing deadline runs from acceptance, so transfers not yet accepted lose
the date that was counted from their application."""

import json
import secrets

from django.db import migrations, models
from django.utils.crypto import salted_hmac

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _signature(sheet) -> str:
    # The same fields, in the same order, as InformationSheet.signed_content.
    content = "|".join(
        str(value)
        for value in (
            sheet.number,
            sheet.verification_code,
            sheet.id_number,
            sheet.name,
            sheet.scheme,
            sheet.outgoing_region_code,
            sheet.incoming_region_code,
            sheet.enrollment_start or "",
            sheet.suspended_on or "",
            sheet.actual_months,
            sheet.deemed_months,
            sheet.account_balance,
            json.dumps(sheet.contribution_history, sort_keys=True),
        )
    )
    return salted_hmac(
        "transfers.InformationSheet", content, algorithm="sha256"
    ).hexdigest()[:32]


def forwards(apps, schema_editor):
    InformationSheet = apps.get_model("transfers", "InformationSheet")
    Transfer = apps.get_model("transfers", "Transfer")
    TransferEvent = apps.get_model("transfers", "TransferEvent")
    used = set()
    for sheet in InformationSheet.objects.all():
        code = "".join(secrets.choice(ALPHABET) for _i in range(12))
        while code in used:
            code = "".join(secrets.choice(ALPHABET) for _i in range(12))
        used.add(code)
        sheet.verification_code = code
        sheet.signature = _signature(sheet)
        sheet.save(update_fields=["verification_code", "signature"])
    not_accepted = Transfer.objects.filter(accepted_at__isnull=True)
    TransferEvent.objects.filter(
        transfer__in=not_accepted, step="submitted"
    ).update(deadline=None, estimated=False)
    not_accepted.update(outgoing_deadline=None, outgoing_deadline_estimated=False)


class Migration(migrations.Migration):
    dependencies = [
        ("transfers", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="informationsheet",
            name="verification_code",
            field=models.CharField(max_length=16, null=True, verbose_name="验证码"),
        ),
        migrations.AddField(
            model_name="informationsheet",
            name="signature",
            field=models.CharField(blank=True, max_length=64, verbose_name="签名"),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
