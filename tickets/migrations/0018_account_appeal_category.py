"""A category's guidance (what a complaint of it should include, per language),
and the account-restriction appeal category with its own team, shipped rather
than only in the demo seed (issue 19): made if missing, its guidance filled if
blank; a category or team an administrator already made is kept as it is."""

from django.db import migrations, models

CODE = "account-appeal"
TEAM = "账号申诉 Account appeals"
# After the categories an administrator adds (sort order 0 by default): appeals close the list.
SORT_ORDER = 100
GUIDANCE_ZH = (
    "账号申诉请提供：\n"
    "· 被限制账号的手机号或用户 ID；\n"
    "· 账号被限制的日期；\n"
    "· 被限制时您正在进行的操作（如登录、下单、参与助力活动）；\n"
    "· 限制提示的截图（请作为凭证上传）。"
)
GUIDANCE_EN = (
    "For an account appeal, please include:\n"
    "· the restricted account's phone number or user ID;\n"
    "· the date it was restricted;\n"
    "· what you were doing at the time (signing in, placing an order, a promotion page …);\n"
    "· screenshots of the restriction notice (upload them as evidence)."
)


def account_appeal_category(apps, schema_editor):
    Category = apps.get_model("tickets", "Category")
    Team = apps.get_model("tickets", "Team")
    db = schema_editor.connection.alias
    category = Category.objects.using(db).filter(code=CODE).first()
    if category is None:
        team, _created = Team.objects.using(db).get_or_create(name=TEAM)
        category = Category.objects.using(db).create(
            code=CODE,
            name_zh="账号限制申诉",
            name_en="Account restriction appeal",
            default_priority="normal",
            team=team,
            sort_order=SORT_ORDER,
        )
    guidance = {"guidance_zh": GUIDANCE_ZH, "guidance_en": GUIDANCE_EN}
    blank = {name: text for name, text in guidance.items() if not getattr(category, name)}
    if blank:
        Category.objects.using(db).filter(pk=category.pk).update(**blank)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0017_sla_policy_conditions"),
    ]

    operations = [
        migrations.AddField(
            model_name="category",
            name="guidance_en",
            field=models.TextField(blank=True, verbose_name="guidance (English)"),
        ),
        migrations.AddField(
            model_name="category",
            name="guidance_zh",
            field=models.TextField(
                blank=True,
                help_text="What a complaint of this category should include: shown on the complaint form when the category is chosen, and in the acknowledgement email.",
                verbose_name="guidance (Chinese)",
            ),
        ),
        # Kept on the way back: tickets may be filed under it.
        migrations.RunPython(account_appeal_category, migrations.RunPython.noop),
    ]
