"""Translatable names for the fields and the reference counter the admin showed in English,
and the notification kinds as choices with their labels, so the admin reads them in the
reader's language instead of their codes (issue 22). No SQL: names and choices only."""

import django.contrib.postgres.fields
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import tickets.models.tickets
import tickets.sla.calendar
import tickets.storage


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0025_queue_search_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="ticketcounter",
            options={"verbose_name": "reference counter", "verbose_name_plural": "reference counters"},
        ),
        migrations.AlterField(
            model_name="agentavailability",
            name="last_offered_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="last offered a chat"),
        ),
        migrations.AlterField(
            model_name="agentavailability",
            name="user",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                primary_key=True,
                related_name="availability",
                serialize=False,
                to=settings.AUTH_USER_MODEL,
                verbose_name="agent",
            ),
        ),
        migrations.AlterField(
            model_name="attachment",
            name="file",
            field=models.FileField(
                max_length=120, storage=tickets.storage.evidence_storage, upload_to="", verbose_name="file"
            ),
        ),
        migrations.AlterField(
            model_name="attachment",
            name="height",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="height"),
        ),
        migrations.AlterField(
            model_name="attachment",
            name="sha256",
            field=models.CharField(max_length=64, verbose_name="sha256"),
        ),
        migrations.AlterField(
            model_name="attachment",
            name="ticket",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="attachments",
                to="tickets.ticket",
                verbose_name="ticket",
            ),
        ),
        migrations.AlterField(
            model_name="attachment",
            name="width",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="width"),
        ),
        migrations.AlterField(
            model_name="businesscalendar",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, verbose_name="updated at"),
        ),
        migrations.AlterField(
            model_name="businesscalendar",
            name="version",
            field=models.PositiveIntegerField(default=1, editable=False, verbose_name="cache version"),
        ),
        migrations.AlterField(
            model_name="calendarday",
            name="calendar",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="days",
                to="tickets.businesscalendar",
                verbose_name="business calendar",
            ),
        ),
        migrations.AlterField(
            model_name="cannedanswer",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="created by",
            ),
        ),
        migrations.AlterField(
            model_name="chat",
            name="agent_read_upto",
            field=models.BigIntegerField(default=0, verbose_name="read by the agent up to message"),
        ),
        migrations.AlterField(
            model_name="chat",
            name="consumer_read_upto",
            field=models.BigIntegerField(default=0, verbose_name="read by the consumer up to message"),
        ),
        migrations.AlterField(
            model_name="chat",
            name="offer_expires_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="offer lapses"),
        ),
        migrations.AlterField(
            model_name="chat",
            name="offered_to",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="offered to",
            ),
        ),
        migrations.AlterField(
            model_name="chat",
            name="passed",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.IntegerField(),
                blank=True,
                default=list,
                size=None,
                verbose_name="agents who let it pass",
            ),
        ),
        migrations.AlterField(
            model_name="chat",
            name="ticket",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                primary_key=True,
                related_name="chat",
                serialize=False,
                to="tickets.ticket",
                verbose_name="ticket",
            ),
        ),
        migrations.AlterField(
            model_name="configstamp",
            name="id",
            field=models.PositiveSmallIntegerField(primary_key=True, serialize=False, verbose_name="ID"),
        ),
        migrations.AlterField(
            model_name="configstamp",
            name="stamp",
            field=models.UUIDField(verbose_name="stamp"),
        ),
        migrations.AlterField(
            model_name="message",
            name="author",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="user",
            ),
        ),
        migrations.AlterField(
            model_name="message",
            name="client_key",
            field=models.CharField(
                blank=True, default="", editable=False, max_length=40, verbose_name="chat client's key"
            ),
        ),
        migrations.AlterField(
            model_name="message",
            name="ticket",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="messages",
                to="tickets.ticket",
                verbose_name="ticket",
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="context",
            field=models.JSONField(blank=True, editable=False, null=True, verbose_name="values to render"),
        ),
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
                verbose_name="ticket event",
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="kind",
            field=models.CharField(
                choices=[
                    ("ticket_received", "Complaint received"),
                    ("agent_replied", "Customer service replied"),
                    ("merchant_answered", "The shop answered the consumer"),
                    ("mail_refused", "Email not taken"),
                    ("mail_files_refused", "Files of an email not added"),
                    ("consumer_replied", "Consumer wrote"),
                    ("sla_warning", "SLA warning"),
                    ("sla_breach", "SLA breached (level 1)"),
                    ("sla_level2", "SLA escalated to level 2"),
                    ("merchant_forwarded", "Forwarded to merchant"),
                    ("merchant_warning", "Reminder to the merchant to reply"),
                    ("merchant_missed", "Merchant missed the reply deadline"),
                    ("survey_invitation", "Satisfaction survey invitation"),
                    ("keyword_alert", "Keyword alert"),
                    ("keyword_alert_message", "Keyword alert in a consumer's message"),
                    ("feedback_alert", "Keyword alert in feedback"),
                    ("merchant_penalized", "Penalty imposed on the merchant"),
                    ("merchant_penalty_lifted", "Penalty lifted"),
                    ("merchant_penalty_revoked", "Penalty revoked"),
                    ("merchant_removed", "Merchant removed"),
                    ("merchant_replied", "Merchant replied"),
                    ("merchant_appeal_received", "Appeal received"),
                    ("merchant_appeal_filed", "Appeal to decide"),
                    ("merchant_appeal_upheld", "Penalty upheld"),
                    ("daily_digest", "Daily digest"),
                ],
                max_length=40,
                verbose_name="kind",
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="language",
            field=models.CharField(
                choices=[("zh-hans", "Simplified Chinese"), ("en", "English")],
                default="zh-hans",
                max_length=10,
                verbose_name="language",
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="last_error",
            field=models.TextField(blank=True, verbose_name="last error"),
        ),
        migrations.AlterField(
            model_name="notification",
            name="next_attempt_at",
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="next attempt"),
        ),
        migrations.AlterField(
            model_name="notification",
            name="recipient_user",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="recipient's account",
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="ticket",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="notifications",
                to="tickets.ticket",
                verbose_name="ticket",
            ),
        ),
        migrations.AlterField(
            model_name="slapolicy",
            name="first_response_clock",
            field=models.CharField(
                choices=[
                    ("calendar", "calendar time (around the clock)"),
                    ("business", "business time (working hours)"),
                ],
                default=tickets.sla.calendar.ClockKind["BUSINESS"],
                max_length=10,
                verbose_name="first response clock",
            ),
        ),
        migrations.AlterField(
            model_name="slapolicy",
            name="first_response_unit",
            field=models.CharField(
                choices=[("minutes", "minutes"), ("hours", "hours"), ("days", "days")],
                default="days",
                max_length=10,
                verbose_name="first response unit",
            ),
        ),
        migrations.AlterField(
            model_name="slapolicy",
            name="merchant_reply_clock",
            field=models.CharField(
                choices=[
                    ("calendar", "calendar time (around the clock)"),
                    ("business", "business time (working hours)"),
                ],
                default=tickets.sla.calendar.ClockKind["CALENDAR"],
                max_length=10,
                verbose_name="merchant reply clock",
            ),
        ),
        migrations.AlterField(
            model_name="slapolicy",
            name="merchant_reply_unit",
            field=models.CharField(
                choices=[("minutes", "minutes"), ("hours", "hours"), ("days", "days")],
                default="hours",
                max_length=10,
                verbose_name="merchant reply unit",
            ),
        ),
        migrations.AlterField(
            model_name="slapolicy",
            name="next_response_clock",
            field=models.CharField(
                choices=[
                    ("calendar", "calendar time (around the clock)"),
                    ("business", "business time (working hours)"),
                ],
                default=tickets.sla.calendar.ClockKind["BUSINESS"],
                max_length=10,
                verbose_name="next response clock",
            ),
        ),
        migrations.AlterField(
            model_name="slapolicy",
            name="next_response_unit",
            field=models.CharField(
                choices=[("minutes", "minutes"), ("hours", "hours"), ("days", "days")],
                default="days",
                max_length=10,
                verbose_name="next response unit",
            ),
        ),
        migrations.AlterField(
            model_name="slapolicy",
            name="resolution_clock",
            field=models.CharField(
                choices=[
                    ("calendar", "calendar time (around the clock)"),
                    ("business", "business time (working hours)"),
                ],
                default=tickets.sla.calendar.ClockKind["BUSINESS"],
                max_length=10,
                verbose_name="resolution clock",
            ),
        ),
        migrations.AlterField(
            model_name="slapolicy",
            name="resolution_unit",
            field=models.CharField(
                choices=[("minutes", "minutes"), ("hours", "hours"), ("days", "days")],
                default="days",
                max_length=10,
                verbose_name="resolution unit",
            ),
        ),
        migrations.AlterField(
            model_name="slatarget",
            name="breach_percent",
            field=models.PositiveSmallIntegerField(default=100, verbose_name="breach at (% elapsed)"),
        ),
        migrations.AlterField(
            model_name="slatarget",
            name="calendar",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="tickets.businesscalendar",
                verbose_name="business calendar",
            ),
        ),
        migrations.AlterField(
            model_name="slatarget",
            name="level2_percent",
            field=models.PositiveSmallIntegerField(default=150, verbose_name="level 2 at (% elapsed)"),
        ),
        migrations.AlterField(
            model_name="slatarget",
            name="next_step_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="next escalation step"),
        ),
        migrations.AlterField(
            model_name="slatarget",
            name="pauses",
            field=models.JSONField(blank=True, default=list, verbose_name="pauses"),
        ),
        migrations.AlterField(
            model_name="slatarget",
            name="ticket",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="targets",
                to="tickets.ticket",
                verbose_name="ticket",
            ),
        ),
        migrations.AlterField(
            model_name="slatarget",
            name="warning_percent",
            field=models.PositiveSmallIntegerField(default=75, verbose_name="warning at (% elapsed)"),
        ),
        migrations.AlterField(
            model_name="staffalert",
            name="event",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tickets.ticketevent",
                verbose_name="ticket event",
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
                verbose_name="alerted",
            ),
        ),
        migrations.AlterField(
            model_name="staffprofile",
            name="user",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="staff_profile",
                to=settings.AUTH_USER_MODEL,
                verbose_name="user",
            ),
        ),
        migrations.AlterField(
            model_name="ticket",
            name="tracking_token",
            field=models.CharField(
                default=tickets.models.tickets._tracking_token,
                editable=False,
                max_length=64,
                verbose_name="tracking token",
            ),
        ),
        migrations.AlterField(
            model_name="ticketcounter",
            name="day",
            field=models.DateField(primary_key=True, serialize=False, verbose_name="day"),
        ),
        migrations.AlterField(
            model_name="ticketcounter",
            name="value",
            field=models.PositiveIntegerField(default=0, verbose_name="last number issued"),
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
                verbose_name="done by",
            ),
        ),
        migrations.AlterField(
            model_name="ticketevent",
            name="cycle",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="cycle"),
        ),
        migrations.AlterField(
            model_name="ticketevent",
            name="data",
            field=models.JSONField(blank=True, default=dict, verbose_name="recorded values"),
        ),
        migrations.AlterField(
            model_name="ticketevent",
            name="step",
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="escalation step"),
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
                verbose_name="SLA target",
            ),
        ),
        migrations.AlterField(
            model_name="ticketevent",
            name="target_kind",
            field=models.CharField(
                blank=True,
                choices=[
                    ("first_response", "First response"),
                    ("next_response", "Next response"),
                    ("resolution", "Resolution"),
                    ("merchant_reply", "Merchant reply"),
                ],
                max_length=20,
                verbose_name="target",
            ),
        ),
        migrations.AlterField(
            model_name="ticketevent",
            name="ticket",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="tickets.ticket",
                verbose_name="ticket",
            ),
        ),
        migrations.AlterField(
            model_name="workingperiod",
            name="calendar",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="periods",
                to="tickets.businesscalendar",
                verbose_name="business calendar",
            ),
        ),
    ]
