"""A strike's reason becomes a code with parameters, told in the reader's
language: "No reply to CS-… within the deadline" becomes ``missed_reply`` with
{"reference": "CS-…"}; any other sentence becomes ``other`` with its words in
{"text": …}, shown as they are. Reversible: back to the English sentences."""

import re

from django.db import migrations, models

MISSED_REPLY = re.compile(r"^No reply to (?P<reference>\S+) within the deadline$")


def sentences_to_codes(apps, schema_editor):
    MerchantStrike = apps.get_model("merchants", "MerchantStrike")
    strikes = MerchantStrike.objects.using(schema_editor.connection.alias)
    changed = []
    for strike in strikes.only("pk", "reason").iterator(chunk_size=2000):
        missed = MISSED_REPLY.match(strike.reason)
        if missed:
            strike.reason, strike.params = "missed_reply", {"reference": missed["reference"]}
        else:
            strike.reason, strike.params = "other", {"text": strike.reason}
        changed.append(strike)
    strikes.bulk_update(changed, ["reason", "params"], batch_size=2000)


def codes_to_sentences(apps, schema_editor):
    MerchantStrike = apps.get_model("merchants", "MerchantStrike")
    strikes = MerchantStrike.objects.using(schema_editor.connection.alias)
    changed = []
    for strike in strikes.only("pk", "reason", "params").iterator(chunk_size=2000):
        params = strike.params or {}
        if strike.reason == "missed_reply" and "reference" in params:
            strike.reason = f"No reply to {params['reference']} within the deadline"
        elif strike.reason == "other" and "text" in params:
            strike.reason = params["text"]
        else:
            continue  # not a code: kept as it is
        changed.append(strike)
    strikes.bulk_update(changed, ["reason"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("merchants", "0005_merchant_api_token_in_accounts"),
    ]

    operations = [
        migrations.AddField(
            model_name="merchantstrike",
            name="params",
            field=models.JSONField(blank=True, default=dict, verbose_name="reason details"),
        ),
        migrations.RunPython(sentences_to_codes, codes_to_sentences),
        migrations.AlterField(
            model_name="merchantstrike",
            name="reason",
            field=models.CharField(
                choices=[("missed_reply", "Missed the reply deadline"), ("other", "Other")],
                max_length=30,
                verbose_name="reason",
            ),
        ),
    ]
