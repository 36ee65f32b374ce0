"""The user and group pages of the admin: each permission named in the reader's
language, and offered only for the pages the admin has, keeping those held."""

import pytest
from django.contrib.auth.models import Group, Permission

from tests.tickets.admin_pages import form_data

pytestmark = pytest.mark.django_db

CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def _permission(label: str) -> Permission:
    app_label, codename = label.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def _offered(response) -> dict[int, str]:
    field = response.context["adminform"].form.fields["permissions"]
    return {permission.pk: field.label_from_instance(permission) for permission in field.queryset}


def test_permissions_read_in_chinese(admin_client):
    group = Group.objects.create(name="质检")

    response = admin_client.get(f"/admin/auth/group/{group.pk}/change/", **CHINESE)

    offered = _offered(response)
    assert offered[_permission("tickets.view_ticket").pk] == "工单与 SLA | 工单 | 可查看"
    assert offered[_permission("tickets.delete_cannedanswer").pk] == "工单与 SLA | 快捷回复 | 可删除"
    assert offered[_permission("tickets.view_reports").pk] == "工单与 SLA | 工单 | 可查看 SLA、积压、满意度和工单量报表"
    assert offered[_permission("merchants.change_merchantapitoken").pk] == "商家 | 商家 API 令牌 | 可修改"
    assert "工单与 SLA | 工单 | 可查看" in response.content.decode()


def test_permissions_read_in_english_on_request(admin_client):
    group = Group.objects.create(name="qa")

    offered = _offered(admin_client.get(f"/en/admin/auth/group/{group.pk}/change/"))

    assert offered[_permission("tickets.add_slapolicy").pk] == "Tickets and SLAs | SLA policy | Can add"


def test_only_the_admins_pages_are_offered_and_a_held_permission_is_kept(admin_client):
    # A permission on a table the admin does not show (a session), held from before.
    session = _permission("sessions.view_session")
    group = Group.objects.create(name="旧角色")
    group.permissions.set([session, _permission("tickets.view_team")])

    page = admin_client.get(f"/admin/auth/group/{group.pk}/change/", **CHINESE)
    offered = _offered(page)
    assert _permission("sessions.change_session").pk not in offered
    assert _permission("axes.view_accessattempt").pk not in offered
    assert _permission("admin.view_logentry").pk not in offered
    assert session.pk in offered  # held: still offered, so that saving keeps it

    response = admin_client.post(f"/admin/auth/group/{group.pk}/change/", form_data(page))

    assert response.status_code == 302
    assert set(group.permissions.values_list("codename", flat=True)) == {"view_session", "view_team"}


def test_the_new_user_page_says_what_comes_next_in_chinese(admin_client):
    page = admin_client.get("/admin/auth/user/add/", **CHINESE).content.decode()

    assert "创建用户后，即可设置其姓名、组和权限。" in page
