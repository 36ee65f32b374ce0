"""The rows cs_desk ships carry Chinese names, as every other name a Chinese
reader meets in the admin and the desk: the default calendar, the chat's SLA
policy and the account-appeal team were named in both languages
(「中国大陆工作日 (China mainland)」, 「在线客服 Live chat」, 「账号申诉 Account
appeals」). Each is renamed only if it still has the name it shipped with and
the new name is free: a name an administrator chose is kept."""

from django.db import migrations

RENAMES = [
    # (model, shipped name, name now)
    ("BusinessCalendar", "中国大陆工作日 (China mainland)", "中国大陆工作日"),
    ("SLAPolicy", "在线客服 Live chat", "在线客服"),
    ("Team", "账号申诉 Account appeals", "账号申诉"),
]


def _rename(apps, schema_editor, *, backwards: bool) -> None:
    db = schema_editor.connection.alias
    for model_name, shipped, now in RENAMES:
        old, new = (now, shipped) if backwards else (shipped, now)
        model = apps.get_model("tickets", model_name)
        if not model.objects.using(db).filter(name=new).exists():
            model.objects.using(db).filter(name=old).update(name=new)


def forwards(apps, schema_editor):
    _rename(apps, schema_editor, backwards=False)


def backwards(apps, schema_editor):
    _rename(apps, schema_editor, backwards=True)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0026_field_labels_notification_kinds")]

    operations = [migrations.RunPython(forwards, backwards)]
