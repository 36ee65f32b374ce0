"""Staff accounts in the admin: Django's user and group pages, with each
permission named in the reader's language (Django stores permission names in
English, as made at migration time) and offered only for the pages this admin
has (granting one on a session, a content type, a sign-in record or a report
rollup means nothing to anyone)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, Permission, User
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# Django's four permissions of every model, by the start of their codename.
ACTIONS = {"add": _("Can add"), "change": _("Can change"), "delete": _("Can delete"), "view": _("Can view")}


def permission_label(permission: Permission) -> str:
    """「工单与 SLA | 工单 | 可查看」: the app and the model as the admin names them, and
    what the permission allows (a model's own permissions by their translated name)."""
    model = permission.content_type.model_class()
    if model is None:  # a model since removed
        return str(permission)
    opts = model._meta
    action = permission.codename.split("_", 1)[0]
    allows = ACTIONS[action] if permission.codename == f"{action}_{opts.model_name}" else gettext(permission.name)
    return f"{opts.app_config.verbose_name} | {opts.verbose_name} | {allows}"


class PermissionChoices:
    """The permission fields of the user and group pages (``permission_fields``)."""

    permission_fields: tuple[str, ...] = ()

    def grantable(self, held: QuerySet | None) -> QuerySet:
        """The permissions of the models this admin shows, and those ``held`` already
        (kept, so that saving the page never drops one)."""
        shown = Q()
        for model in self.admin_site._registry:
            shown |= Q(content_type__app_label=model._meta.app_label, content_type__model=model._meta.model_name)
        if held is not None:
            shown |= Q(pk__in=held.values("pk"))
        return Permission.objects.filter(shown).select_related("content_type")

    def get_form(self, request: HttpRequest, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        for name in self.permission_fields:
            if name in form.base_fields:
                field = form.base_fields[name]
                field.queryset = self.grantable(getattr(obj, name).all() if obj is not None else None)
                field.label_from_instance = permission_label
        return form


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class StaffUserAdmin(PermissionChoices, UserAdmin):
    permission_fields = ("user_permissions",)
    add_form_template = "admin/accounts/user_add_form.html"


@admin.register(Group)
class RoleGroupAdmin(PermissionChoices, GroupAdmin):
    permission_fields = ("permissions",)
