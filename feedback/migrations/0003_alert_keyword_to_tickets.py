"""AlertKeyword leaves this app's state for the ticket domain (tickets 0013,
which also moves its content type); KeywordHit.keyword now names
tickets.AlertKeyword. No table or column changes: the table keeps its name
(feedback_alertkeyword) and the foreign key already points at it."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0002_feedback_form_keyword_hits"),
        ("tickets", "0013_alert_keyword_in_tickets"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="keywordhit",
                    name="keyword",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="hits", to="tickets.alertkeyword"
                    ),
                ),
                migrations.DeleteModel(name="AlertKeyword"),
            ]
        )
    ]
