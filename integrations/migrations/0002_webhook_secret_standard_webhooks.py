"""Webhook signing secrets in the Standard Webhooks form, keeping their keys.

Until now the HMAC key was the secret's text itself (``whsec_`` and URL-safe
characters, or whatever an administrator typed). Standard Webhooks reads a
secret as ``whsec_`` and the base64 of the key, so each existing secret becomes
``whsec_`` and the base64 of its old text: the key is the same bytes, and a
receiver that checks X-CS-Desk-Signature with the secret it was given keeps
working, while one that moves to webhook-signature uses the text the admin now
shows. Reversed, a secret whose key is text gets that text back."""

import base64

from django.db import migrations, models

import integrations.models

PREFIX = "whsec_"


def encode(apps, schema_editor):
    WebhookEndpoint = apps.get_model("integrations", "WebhookEndpoint")
    for pk, secret in WebhookEndpoint.objects.values_list("pk", "secret").iterator():
        standard = PREFIX + base64.b64encode(secret.encode()).decode()
        WebhookEndpoint.objects.filter(pk=pk).update(secret=standard)


def decode(apps, schema_editor):
    WebhookEndpoint = apps.get_model("integrations", "WebhookEndpoint")
    for pk, secret in WebhookEndpoint.objects.values_list("pk", "secret").iterator():
        try:
            text = base64.b64decode(secret.removeprefix(PREFIX), validate=True).decode()
        except ValueError:  # not base64, or random bytes rather than text: the old code keys with the secret as it is
            continue
        if text.isprintable() and len(text) <= 100:
            WebhookEndpoint.objects.filter(pk=pk).update(secret=text)


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="webhookendpoint",
            name="secret",
            field=models.CharField(
                default=integrations.models._secret,
                help_text="The receiver verifies each delivery's webhook-signature with exactly this text (Standard Webhooks). Keep it secret.",
                max_length=600,
                verbose_name="signing secret",
            ),
        ),
        migrations.RunPython(encode, decode),
    ]
