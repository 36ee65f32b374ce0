"""The SLA sweep writes fewer index entries (issue 21).

* ``Notification.context``: a notice the sweep writes as its values, rendered when
  it is delivered (``tickets.notifications.notifications_insert(deferred=True)``).
* Foreign keys NULL on most rows get partial indexes (``WHERE … IS NOT NULL``):
  ``Ticket.follows`` and ``merged_into``, ``TicketEvent.actor`` (NULL on every event
  of the sweep) and ``target`` (NULL on hand-overs and priority changes),
  ``Notification.event`` (set by no writer). A lookup by a value (``= %s``,
  ``IN``, the delete guards of SET_NULL, CASCADE and PROTECT) still uses them; a
  row without one writes no index entry.
* ``StaffAlert.user`` and ``event`` lose their own indexes: ``staff_alert_user_idx``
  (user, -created_at) and the unique ``staff_alert_once`` (event, user) lead with them.

Hand-written database side: Django's AlterField(db_index=False) would also drop and
re-add each foreign key, re-checking every row of the table; only the indexes change.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_api_key"),
        ("tickets", "0023_work_time"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="context",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="notification",
                    name="event",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="tickets.ticketevent",
                    ),
                ),
                migrations.AlterField(
                    model_name="staffalert",
                    name="event",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="tickets.ticketevent",
                    ),
                ),
                migrations.AlterField(
                    model_name="staffalert",
                    name="user",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="staff_alerts",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="follows",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="follow_ups",
                        to="tickets.ticket",
                        verbose_name="follow-up of",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticket",
                    name="merged_into",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="merged_tickets",
                        to="tickets.ticket",
                        verbose_name="merged into",
                    ),
                ),
                migrations.AlterField(
                    model_name="ticketevent",
                    name="actor",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="ticketevent",
                    name="target",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="events",
                        to="tickets.slatarget",
                    ),
                ),
                migrations.AddIndex(
                    model_name="notification",
                    index=models.Index(
                        condition=models.Q(("event__isnull", False)), fields=["event"], name="notification_event_idx"
                    ),
                ),
                migrations.AddIndex(
                    model_name="ticket",
                    index=models.Index(
                        condition=models.Q(("follows__isnull", False)), fields=["follows"], name="ticket_follows_idx"
                    ),
                ),
                migrations.AddIndex(
                    model_name="ticket",
                    index=models.Index(
                        condition=models.Q(("merged_into__isnull", False)),
                        fields=["merged_into"],
                        name="ticket_merged_into_idx",
                    ),
                ),
                migrations.AddIndex(
                    model_name="ticketevent",
                    index=models.Index(
                        condition=models.Q(("actor__isnull", False)), fields=["actor"], name="event_actor_idx"
                    ),
                ),
                migrations.AddIndex(
                    model_name="ticketevent",
                    index=models.Index(
                        condition=models.Q(("target__isnull", False)), fields=["target"], name="event_target_idx"
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=[
                        "DROP INDEX IF EXISTS tickets_ticket_follows_id_701312c7",
                        "DROP INDEX IF EXISTS tickets_ticket_merged_into_id_3a36ad40",
                        "DROP INDEX IF EXISTS tickets_ticketevent_actor_id_2a65fff2",
                        "DROP INDEX IF EXISTS tickets_ticketevent_target_id_28d02bb6",
                        "DROP INDEX IF EXISTS tickets_notification_event_id_cccaecba",
                        "DROP INDEX IF EXISTS tickets_staffalert_event_id_946ad298",
                        "DROP INDEX IF EXISTS tickets_staffalert_user_id_bc5dcc62",
                        "CREATE INDEX ticket_follows_idx ON tickets_ticket (follows_id) WHERE follows_id IS NOT NULL",
                        "CREATE INDEX ticket_merged_into_idx ON tickets_ticket (merged_into_id) "
                        "WHERE merged_into_id IS NOT NULL",
                        "CREATE INDEX event_actor_idx ON tickets_ticketevent (actor_id) WHERE actor_id IS NOT NULL",
                        "CREATE INDEX event_target_idx ON tickets_ticketevent (target_id) WHERE target_id IS NOT NULL",
                        "CREATE INDEX notification_event_idx ON tickets_notification (event_id) "
                        "WHERE event_id IS NOT NULL",
                    ],
                    reverse_sql=[
                        "DROP INDEX IF EXISTS ticket_follows_idx",
                        "DROP INDEX IF EXISTS ticket_merged_into_idx",
                        "DROP INDEX IF EXISTS event_actor_idx",
                        "DROP INDEX IF EXISTS event_target_idx",
                        "DROP INDEX IF EXISTS notification_event_idx",
                        "CREATE INDEX tickets_ticket_follows_id_701312c7 ON tickets_ticket (follows_id)",
                        "CREATE INDEX tickets_ticket_merged_into_id_3a36ad40 ON tickets_ticket (merged_into_id)",
                        "CREATE INDEX tickets_ticketevent_actor_id_2a65fff2 ON tickets_ticketevent (actor_id)",
                        "CREATE INDEX tickets_ticketevent_target_id_28d02bb6 ON tickets_ticketevent (target_id)",
                        "CREATE INDEX tickets_notification_event_id_cccaecba ON tickets_notification (event_id)",
                        "CREATE INDEX tickets_staffalert_event_id_946ad298 ON tickets_staffalert (event_id)",
                        "CREATE INDEX tickets_staffalert_user_id_bc5dcc62 ON tickets_staffalert (user_id)",
                    ],
                ),
            ],
        ),
    ]
