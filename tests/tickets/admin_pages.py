"""What the admin tests share: English admin URLs and an unchanged form posted back."""

from django.urls import reverse
from django.utils import translation


def url(name: str, *args) -> str:
    """Admin URLs in English, so that assertions on our own messages do not
    depend on the Chinese translation (the unprefixed URLs are zh-hans)."""
    with translation.override("en"):
        return reverse(f"admin:{name}", args=args)


def form_data(response) -> dict:
    """What the browser would post back for an unchanged admin change form."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else value
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = management[name].value()
    return data
