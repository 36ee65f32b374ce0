"""What each role may do in the admin, exactly (issue 16): administrators
(superusers) configure; supervisors keep their teams' canned answers; managers
read the configuration behind the reports; agents work in the desk and have
nothing here. Tickets are worked in the desk, not the admin. Replaces the
groups' permissions given by 0005 and 0008; reading the reports stays a
permission of managers and supervisors."""

from django.db import migrations

ROLE_PERMISSIONS = {
    "agents": [],
    "supervisors": [
        "tickets.view_reports",
        "tickets.view_cannedanswer",
        "tickets.add_cannedanswer",
        "tickets.change_cannedanswer",
        "tickets.delete_cannedanswer",
    ],
    "managers": [
        "tickets.view_reports",
        "tickets.view_team",
        "tickets.view_category",
        "tickets.view_slapolicy",
        "tickets.view_businesscalendar",
        "tickets.view_calendarday",
    ],
}
BEFORE = {
    "agents": ["tickets.view_ticket", "tickets.view_cannedanswer"],
    "supervisors": [
        "tickets.view_reports",
        "tickets.view_ticket",
        "tickets.change_ticket",
        "tickets.view_team",
        "tickets.view_cannedanswer",
        "tickets.add_cannedanswer",
        "tickets.change_cannedanswer",
        "tickets.delete_cannedanswer",
    ],
    "managers": [
        "tickets.view_reports",
        "tickets.view_ticket",
        "tickets.view_team",
        "tickets.view_category",
        "tickets.view_cannedanswer",
    ],
}


def _set(apps, roles: dict[str, list[str]]) -> None:
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after the whole migrate run; make them now.
    for config in apps.get_app_configs():
        loaded = getattr(config, "models_module", None)
        config.models_module = loaded or True  # historical app configs have none
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = loaded
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codes in roles.items():
        group, _created = Group.objects.get_or_create(name=name)
        wanted = [
            Permission.objects.get(content_type__app_label=code.split(".")[0], codename=code.split(".")[1])
            for code in codes
        ]
        group.permissions.set(wanted)


def set_roles(apps, schema_editor):
    _set(apps, ROLE_PERMISSIONS)


def restore(apps, schema_editor):
    _set(apps, BEFORE)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0008_reports_elapsed_time_zone_digest"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(set_roles, restore)]
