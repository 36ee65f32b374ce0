"""The alert words move into the ticket domain: AlertKeyword enters this app's
state with the table it had in the feedback app (feedback_alertkeyword), whose
rows stay where they are; feedback 0003 takes it out of the feedback app's
state and points KeywordHit.keyword here. No table or column changes.

Its content type moves too (feedback.alertkeyword → tickets.alertkeyword), so
the permissions on it, the groups and users holding them and the admin history
follow the model. If the new content type already exists (a migrate run made
it, for instance after migrating back and forth), the old one is merged into
it: its grants and history move over, then it goes. Reversible."""

import django.db.models.functions.text
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MODEL = "alertkeyword"


def _content_type_move(apps, schema_editor, source: str, target: str) -> None:
    db = schema_editor.connection.alias
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    LogEntry = apps.get_model("admin", "LogEntry")
    old = ContentType.objects.using(db).filter(app_label=source, model=MODEL).first()
    if old is None:
        return  # a database made after the move (content types come after the migrations)
    new = ContentType.objects.using(db).filter(app_label=target, model=MODEL).first()
    if new is None:
        old.app_label = target
        old.save(update_fields=["app_label"])
    else:
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


def to_tickets(apps, schema_editor):
    _content_type_move(apps, schema_editor, "feedback", "tickets")


def to_feedback(apps, schema_editor):
    _content_type_move(apps, schema_editor, "tickets", "feedback")


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0012_merchant_in_accounts"),
        # The table exists, with every column below, from the feedback app's migrations.
        ("feedback", "0002_feedback_form_keyword_hits"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AlertKeyword",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("word", models.CharField(max_length=50, verbose_name="word")),
                        ("is_active", models.BooleanField(default=True, verbose_name="active")),
                        (
                            "created_at",
                            models.DateTimeField(default=django.utils.timezone.now, verbose_name="added"),
                        ),
                    ],
                    options={
                        "verbose_name": "alert keyword",
                        "verbose_name_plural": "alert keywords",
                        "db_table": "feedback_alertkeyword",
                        "ordering": ["word"],
                        "constraints": [
                            models.UniqueConstraint(
                                django.db.models.functions.text.Lower("word"), name="alert_keyword_unique_ci"
                            )
                        ],
                    },
                ),
            ]
        ),
        migrations.RunPython(to_tickets, to_feedback),
    ]
