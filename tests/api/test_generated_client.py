"""An integrator's client: generated from the live schema with openapi-python-client
(pinned in requirements-dev.txt), imported, and driven over HTTP against a running
server through a ticket's whole life, with no request written by hand. If the
schema stops describing what the server does in a way a generator can use, the
generation warns (and fails here) or the generated code breaks."""

import hashlib
import importlib
import subprocess
import sys
from datetime import datetime
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.utils.crypto import get_random_string
from PIL import Image

from tests.api.conftest import png
from tests.servers import session_cookie

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SH = ZoneInfo("Asia/Shanghai")
PACKAGE = "cs_desk_api_client"
# The generator formats its output with ruff by default (found on PATH): the code
# runs as well without, and the test stays offline and quick.
GENERATOR_CONFIG = "post_hooks: []\n"


def session_cookies(user) -> dict[str, str]:
    name, value = session_cookie(user).split("=", 1)
    return {name: value}


@pytest.fixture
def api(live_server, tmp_path):
    """The client package, generated from ``/api/schema/`` as the server serves it."""
    config = tmp_path / "generator.yaml"
    config.write_text(GENERATOR_CONFIG)
    generated = subprocess.run(
        [
            sys.executable, "-m", "openapi_python_client", "generate",
            "--url", f"{live_server.url}/api/schema/",
            "--meta", "none", "--config", str(config), "--output-path", str(tmp_path / PACKAGE),
            "--fail-on-warning",
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    # A part of the schema the generator cannot use is a warning: the operation or
    # response would be missing from the client.
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "Warning" not in generated.stdout + generated.stderr, generated.stdout + generated.stderr
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_a_ticket_s_whole_life_through_a_generated_client(api, live_server, world):
    # Given the generated package's operations and models…
    from cs_desk_api_client.api.sla import sla_preview
    from cs_desk_api_client.api.tickets import (
        tickets_attachments_download_retrieve,
        tickets_create,
        tickets_list,
        tickets_messages_create,
        tickets_messages_list,
        tickets_partial_update,
    )
    from cs_desk_api_client.models import (
        ChannelEnum,
        Error,
        IntakeChannelEnum,
        MessageCreateRequest,
        MessageCreateWithFilesRequest,
        PatchedTicketUpdateRequest,
        PriorityEnum,
        TicketStatusEnum,
    )
    from cs_desk_api_client.types import File

    # …and an integration acting as the agent of the Orders team, with her token.
    client = api.AuthenticatedClient(
        base_url=live_server.url, token=world.keys["agent"], raise_on_unexpected_status=True
    )

    # When is an urgent problem reported on Monday 10:00 in Shanghai answered? 24 calendar hours: instants,
    # typed as such.
    preview = sla_preview.sync(client=client, priority=PriorityEnum.URGENT, at="2026-11-16T10:00:00+08:00")
    assert preview.first_response_due == datetime(2026, 11, 17, 10, 0, tzinfo=SH)
    assert preview.priority is PriorityEnum.URGENT and preview.channel is ChannelEnum.WEB

    # The open tickets she may see: her team's (not Returns', not the resolved one).
    listed = tickets_list.sync(client=client)
    assert [t.reference for t in listed.results] == [world.mine.reference]

    # A consumer phones: the agent files the complaint from the other channel.
    filed = tickets_create.sync(
        client=client,
        body=api.models.TicketCreateRequest(
            category="refund",
            subject="电话投诉：退款没到账",
            body="客户来电说退货 5 天了还没退款。",
            channel=IntakeChannelEnum.PHONE,
            requester_name="李先生",
            requester_phone="13900001111",
        ),
    )
    assert (filed.channel, filed.status, filed.category, filed.team) == (
        ChannelEnum.PHONE,
        TicketStatusEnum.NEW,
        "refund",
        "Orders",
    )
    assert filed.assignee == "agent"  # a phone call is the caller's, as on the desk
    assert filed.requester_phone == "+8613900001111"

    # The filters take what the tickets show: the category's code and the team's name.
    by_code = tickets_list.sync(client=client, category="refund", team="Orders")
    assert [t.reference for t in by_code.results] == [filed.reference, world.mine.reference]
    not_hers = tickets_list.sync(client=client, team="Returns")
    assert isinstance(not_hers, Error) and list(not_hers.errors.additional_properties) == ["team"]

    # She replies as JSON…
    reply = tickets_messages_create.sync(
        client=client, id=filed.id, body=MessageCreateRequest(body="您好，已为您催促商家退款。")
    )
    assert (reply.author, reply.internal, reply.attachments) == ("agent", False, [])

    # …and notes the screenshot the consumer sent, as a file (multipart).
    picture = png("退款截图.png").read()
    note = tickets_messages_create.sync(
        client=client,
        id=filed.id,
        body=MessageCreateWithFilesRequest(
            body="客户发来的截图",
            internal=True,
            files=[File(payload=BytesIO(picture), file_name="退款截图.png", mime_type="image/png")],
        ),
    )
    assert note.internal is True
    [attachment] = note.attachments
    assert (attachment.original_name, attachment.content_type, attachment.width) == ("退款截图.png", "image/png", 40)

    # She waits on the consumer.
    pending = tickets_partial_update.sync(
        client=client, id=filed.id, body=PatchedTicketUpdateRequest(status=TicketStatusEnum.PENDING)
    )
    assert pending.status is TicketStatusEnum.PENDING
    assert isinstance(pending.first_responded_at, datetime)  # the JSON reply answered the consumer

    # In her browser, signed in to the desk, the session changes something only with its CSRF token.
    csrf = get_random_string(32)
    browser = api.Client(base_url=live_server.url, cookies={**session_cookies(world.agent), "csrftoken": csrf})
    later = MessageCreateRequest(body="已电话回访", internal=True)
    refused = tickets_messages_create.sync(client=browser, id=filed.id, body=later)
    assert isinstance(refused, Error) and refused.code == "permission_denied"
    assert tickets_messages_create.sync(client=browser, id=filed.id, body=later, x_csrf_token=csrf).author == "agent"

    # The conversation, oldest first, and the file back, byte for byte as stored.
    conversation = tickets_messages_list.sync(client=client, id=filed.id)
    assert [(m.body, m.internal) for m in conversation.results] == [
        ("客户来电说退货 5 天了还没退款。", False),
        ("您好，已为您催促商家退款。", False),
        ("客户发来的截图", True),
        ("已电话回访", True),
    ]
    downloaded = tickets_attachments_download_retrieve.sync(client=client, id=filed.id, attachment_id=attachment.id)
    content = downloaded.payload.read()
    assert hashlib.sha256(content).hexdigest() == attachment.sha256
    assert Image.open(BytesIO(content)).size == (40, 30)

    # Two pages of one ticket each, walked by the cursor each page gives.
    first = tickets_list.sync(client=client, page_size=1)
    second = tickets_list.sync(client=client, page_size=1, cursor=first.next_cursor)
    assert [t.reference for t in first.results + second.results] == [filed.reference, world.mine.reference]
    assert (first.previous_cursor, second.next_cursor) == (None, None)
    back = tickets_list.sync(client=client, page_size=1, cursor=second.previous_cursor)
    assert [t.reference for t in back.results] == [filed.reference]
