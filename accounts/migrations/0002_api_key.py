"""One table for every API key: staff keys (integrations.StaffApiToken) and
merchant keys (merchants.MerchantApiToken) had one each, of the same shape.
Every key is copied with its hash and prefix, so the keys in use keep working;
the admin history of a key follows it to its new id. integrations 0004 and
merchants 0005 then drop the old tables, keeping the two names as views of
this one (same content types, so the permissions on them stay)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

# (app, model, kind): the tables gathered here.
SOURCES = (("integrations", "StaffApiToken", "staff"), ("merchants", "MerchantApiToken", "merchant"))
COPIED = ("user_id", "name", "prefix", "key_hash", "created_at", "last_used_at", "revoked_at")


def _history_follow(apps, db: str, app_label: str, model: str, ids: dict[int, int]) -> None:
    """Point the admin history of ``app_label.model`` objects at their new ids."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    LogEntry = apps.get_model("admin", "LogEntry")
    content_type = ContentType.objects.using(db).filter(app_label=app_label, model=model).first()
    if content_type is None or not ids:
        return
    moved = []
    # Every entry is read before any is written, so an old id that is also a new one is never moved twice.
    for entry in LogEntry.objects.using(db).filter(content_type=content_type).only("pk", "object_id"):
        new = ids.get(int(entry.object_id)) if entry.object_id.isdigit() else None
        if new is not None:
            entry.object_id = str(new)
            moved.append(entry)
    LogEntry.objects.using(db).bulk_update(moved, ["object_id"], batch_size=1000)


def keys_gather(apps, schema_editor):
    db = schema_editor.connection.alias
    ApiKey = apps.get_model("accounts", "ApiKey")
    for app_label, model_name, kind in SOURCES:
        old = list(apps.get_model(app_label, model_name).objects.using(db).order_by("pk"))
        made = ApiKey.objects.using(db).bulk_create(
            [
                ApiKey(kind=kind, merchant_id=getattr(row, "merchant_id", None), **{f: getattr(row, f) for f in COPIED})
                for row in old
            ],
            batch_size=1000,
        )
        _history_follow(apps, db, app_label, model_name.lower(), {o.pk: n.pk for o, n in zip(old, made, strict=True)})


def keys_scatter(apps, schema_editor):
    db = schema_editor.connection.alias
    ApiKey = apps.get_model("accounts", "ApiKey")
    for app_label, model_name, kind in SOURCES:
        Old = apps.get_model(app_label, model_name)
        keys = list(ApiKey.objects.using(db).filter(kind=kind).order_by("pk"))
        extra = (lambda key: {"merchant_id": key.merchant_id}) if kind == "merchant" else (lambda key: {})
        made = Old.objects.using(db).bulk_create(
            [Old(**{f: getattr(key, f) for f in COPIED}, **extra(key)) for key in keys], batch_size=1000
        )
        _history_follow(apps, db, app_label, model_name.lower(), {k.pk: o.pk for k, o in zip(keys, made, strict=True)})


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("merchants", "0004_merchant_to_accounts"),
        ("integrations", "0003_webhook_lease_ticket_event_catch_up"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ApiKey",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[("staff", "Staff"), ("merchant", "Merchant")], max_length=10, verbose_name="kind"
                    ),
                ),
                (
                    "name",
                    models.CharField(
                        help_text="What uses it, e.g. “order system”.", max_length=100, verbose_name="name"
                    ),
                ),
                ("prefix", models.CharField(editable=False, max_length=12, verbose_name="key starts with")),
                ("key_hash", models.CharField(editable=False, max_length=64, unique=True)),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name="created"),
                ),
                ("last_used_at", models.DateTimeField(blank=True, editable=False, null=True, verbose_name="last used")),
                ("revoked_at", models.DateTimeField(blank=True, null=True, verbose_name="revoked")),
                (
                    "merchant",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="api_keys",
                        to="accounts.merchant",
                        verbose_name="merchant",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="api_keys",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="user",
                    ),
                ),
            ],
            options={
                "verbose_name": "API key",
                "verbose_name_plural": "API keys",
                "ordering": ["-created_at"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("kind", "staff"), ("merchant__isnull", True))
                        | models.Q(("kind", "merchant"), ("merchant__isnull", False)),
                        name="api_key_merchant_iff_merchant_key",
                    )
                ],
            },
        ),
        migrations.RunPython(keys_gather, keys_scatter),
    ]
