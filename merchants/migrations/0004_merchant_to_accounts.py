"""Merchant and MerchantUser leave this app's state for accounts (accounts
0001); every foreign key to them now names accounts.Merchant. No table or
column changes: the foreign keys already point at merchants_merchant.

Their content types move too (merchants.merchant → accounts.merchant,
merchants.merchantuser → accounts.merchantuser), so the permissions on them,
the groups holding those permissions and the admin history follow the models.
If a migrate run has already made the new app's content type (Django makes the
permissions of every model in the state when a migration asks for them), the
old one is merged into it: its grants and history move over, then it goes."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MOVED = ("merchant", "merchantuser")


def _content_types_move(apps, schema_editor, source: str, target: str) -> None:
    db = schema_editor.connection.alias
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    LogEntry = apps.get_model("admin", "LogEntry")
    for model in MOVED:
        old = ContentType.objects.using(db).filter(app_label=source, model=model).first()
        if old is None:
            continue  # a database made after the move
        new = ContentType.objects.using(db).filter(app_label=target, model=model).first()
        if new is None:
            old.app_label = target
            old.save(update_fields=["app_label"])
            continue
        for permission in Permission.objects.using(db).filter(content_type=old):
            twin = Permission.objects.using(db).filter(content_type=new, codename=permission.codename).first()
            if twin is None:
                permission.content_type = new
                permission.save(update_fields=["content_type"])
                continue
            for group in permission.group_set.all():
                group.permissions.add(twin)
            for user in User.objects.using(db).filter(user_permissions=permission):
                user.user_permissions.add(twin)
            permission.delete()
        LogEntry.objects.using(db).filter(content_type=old).update(content_type=new)
        old.delete()
    ContentType.objects.clear_cache()


def to_accounts(apps, schema_editor):
    _content_types_move(apps, schema_editor, "merchants", "accounts")


def to_merchants(apps, schema_editor):
    _content_types_move(apps, schema_editor, "accounts", "merchants")


def _to_merchant(related_name: str) -> models.ForeignKey:
    return models.ForeignKey(
        on_delete=django.db.models.deletion.CASCADE, related_name=related_name, to="accounts.merchant"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("merchants", "0003_merchant_standing_penalties_signals_tokens"),
        ("accounts", "0001_initial"),
        # Ticket.merchant names accounts.Merchant before merchants.Merchant leaves the state.
        ("tickets", "0012_merchant_in_accounts"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(model_name="merchantstrike", name="merchant", field=_to_merchant("strikes")),
                migrations.AlterField(model_name="merchantdocument", name="merchant", field=_to_merchant("documents")),
                migrations.AlterField(model_name="merchantpenalty", name="merchant", field=_to_merchant("penalties")),
                migrations.AlterField(model_name="merchantscore", name="merchant", field=_to_merchant("scores")),
                migrations.AlterField(model_name="merchantapitoken", name="merchant", field=_to_merchant("api_tokens")),
                migrations.AlterField(
                    model_name="merchantrisksignal",
                    name="merchants",
                    field=models.ManyToManyField(
                        related_name="risk_signals", to="accounts.merchant", verbose_name="merchants"
                    ),
                ),
                migrations.DeleteModel(name="MerchantUser"),
                migrations.DeleteModel(name="Merchant"),
            ]
        ),
        migrations.RunPython(to_accounts, to_merchants),
    ]
