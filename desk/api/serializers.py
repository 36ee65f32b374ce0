from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cs_desk.api import StrictSerializer, by_rule
from tickets.models import Attachment, Category, Message, SLATarget, Ticket
from tickets.phones import phone_normalise
from tickets.privacy import mask_contact
from tickets.rules import email_clean, evidence_count_check, message_clean, order_number_clean, requester_name_clean
from tickets.selectors import merchant_for_shop
from tickets.uploads import evidence_clean

# The channels a complaint can reach us through other than the web form (which files its own).
INTAKE_CHANNELS = [c for c in Ticket.Channel.choices if c[0] != Ticket.Channel.WEB]


class TicketSerializer(serializers.ModelSerializer):
    """A ticket as the staff API lists it: the queue row, the consumer's contact masked."""

    category = serializers.CharField(source="category.code", read_only=True)
    team = serializers.CharField(source="team.name", read_only=True)
    merchant = serializers.CharField(source="merchant.shop_id", read_only=True, allow_null=True, default=None)
    assignee = serializers.CharField(source="assignee.username", read_only=True, allow_null=True, default=None)
    requester = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = [
            "id", "reference", "subject", "status", "priority", "category", "team", "merchant", "order_number",
            "assignee", "channel", "requester", "due_at", "is_overdue", "escalation_level", "first_responded_at",
            "resolved_at", "closed_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_requester(self, ticket: Ticket) -> str:
        return mask_contact(phone=ticket.requester_phone, email=ticket.requester_email)


class TargetSerializer(serializers.ModelSerializer):
    policy = serializers.StringRelatedField(read_only=True, help_text="The SLA policy that gave the target its clock.")

    class Meta:
        model = SLATarget
        fields = ["kind", "cycle", "status", "policy", "started_at", "due_at", "met_at", "steps_taken"]
        read_only_fields = fields


class TicketDetailSerializer(TicketSerializer):
    """One ticket for staff who may see it: with the consumer's contact (they
    answer the consumer) and its SLA targets."""

    requester_name = serializers.CharField(read_only=True)
    requester_email = serializers.CharField(read_only=True)
    requester_phone = serializers.CharField(read_only=True)
    targets = TargetSerializer(many=True, read_only=True)

    class Meta(TicketSerializer.Meta):
        fields = [
            *TicketSerializer.Meta.fields, "requester_name", "requester_email", "requester_phone", "language",
            "is_flagged", "targets",
        ]  # fmt: skip
        read_only_fields = fields


class TicketCreateSerializer(StrictSerializer):
    """A complaint that reached us another way: the chat, the app, a phone call,
    an email. Each field is checked by the rule ``tickets.services.ticket_create``
    applies (the same words and codes); the service's own refusal is a 400
    naming the field too. A phone call is assigned to the caller's user when
    the ticket may be assigned to them, as on the desk."""

    category = serializers.SlugRelatedField(slug_field="code", queryset=Category.objects.filter(is_active=True))
    subject = serializers.CharField(max_length=200)
    body = serializers.CharField(
        help_text="The consumer's complaint, in their words (at most MESSAGE_MAX_CHARS characters, 10,000 by default)."
    )
    channel = serializers.ChoiceField(choices=INTAKE_CHANNELS)
    requester_name = serializers.CharField(help_text="At most 100 characters.")
    requester_email = serializers.EmailField(required=False, allow_blank=True, default="")
    requester_phone = serializers.CharField(
        required=False, allow_blank=True, default="",
        help_text="Any valid number; without + and a country code it is Chinese. Stored in E.164 (+8613812345678).",
    )  # fmt: skip
    order_number = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="6 to 32 letters, digits or dashes."
    )
    merchant = serializers.CharField(
        required=False, allow_null=True, default=None, max_length=200,
        help_text="The shop, if it is about one: its shop id, or its name (as the complaint form takes it).",
    )  # fmt: skip
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False, default=settings.LANGUAGE_CODE)
    priority = serializers.ChoiceField(
        choices=Ticket.Priority.choices, required=False, allow_null=True, default=None,
        help_text="Leave out to use the category's default.",
    )  # fmt: skip

    def validate_body(self, body: str) -> str:
        return by_rule(message_clean, body)

    def validate_requester_name(self, name: str) -> str:
        return by_rule(requester_name_clean, name)

    def validate_requester_email(self, email: str) -> str:
        return by_rule(email_clean, email)

    def validate_requester_phone(self, phone: str) -> str:
        return by_rule(phone_normalise, phone)

    def validate_order_number(self, order_number: str) -> str:
        return by_rule(order_number_clean, order_number)

    def validate_merchant(self, value):
        return by_rule(merchant_for_shop, value)


class TicketUpdateSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=Ticket.Status.choices, required=False)
    priority = serializers.ChoiceField(choices=Ticket.Priority.choices, required=False)
    assignee = serializers.CharField(
        required=False, allow_null=True, max_length=150,
        help_text="A username from the ticket's team; null to unassign.",
    )  # fmt: skip

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(_("Give status, priority or assignee."), code="empty")
        return attrs


class AttachmentSerializer(serializers.ModelSerializer):
    message = serializers.PrimaryKeyRelatedField(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id", "message", "original_name", "content_type", "size", "width", "height", "sha256", "created_at",
            "download_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_download_url(self, attachment: Attachment) -> str:
        return reverse("api:ticket-download", kwargs={"pk": attachment.ticket_id, "attachment_id": attachment.pk})


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    internal = serializers.SerializerMethodField()
    attachments = AttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = Message
        fields = ["id", "author_kind", "author", "body", "internal", "attachments", "created_at"]
        read_only_fields = fields

    def get_author(self, message: Message) -> str | None:
        """The staff member's username (agents), or null (the consumer, a merchant)."""
        return message.author.username if message.author_id and message.author_kind == "agent" else None

    def get_internal(self, message: Message) -> bool:
        return not message.is_public


class MessageCreateSerializer(StrictSerializer):
    """A reply or an internal note as JSON (no files: those come as multipart)."""

    body = serializers.CharField(help_text="At most MESSAGE_MAX_CHARS characters (10,000 by default).")
    internal = serializers.BooleanField(
        default=False, help_text="true: an internal note only staff see; false: a reply to the consumer."
    )

    def validate_body(self, body: str) -> str:
        return by_rule(message_clean, body)


class MessageCreateWithFilesSerializer(MessageCreateSerializer):
    """A reply or an internal note with files, as multipart/form-data."""

    files = serializers.ListField(
        child=serializers.FileField(), required=False, default=list,
        help_text="Pictures (PNG, JPEG, GIF, WebP) or PDFs, at most EVIDENCE_MAX_FILES (5 by default); "
        "one part named files per file.",
    )  # fmt: skip

    def validate_files(self, files):
        by_rule(evidence_count_check, files)
        cleaned = []
        for index, upload in enumerate(files):
            try:
                cleaned.append(evidence_clean(upload))
            except ValidationError as exc:
                raise serializers.ValidationError({index: exc.messages}) from exc
        return cleaned


class CategorySerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()
    team = serializers.CharField(source="team.name", read_only=True)
    promise = serializers.SerializerMethodField()

    class Meta:
        model = Category
        fields = ["code", "name", "team", "default_priority", "promise"]
        read_only_fields = fields

    def get_name(self, category: Category) -> str:
        """In the request's language (Accept-Language: zh-hans or en)."""
        return str(category.name)

    def get_promise(self, category: Category) -> str:
        """What a consumer filing in this category is promised, e.g. “within 24 hours”."""
        return self.context["promises"].get(category.pk, "")


class SLAPreviewQuerySerializer(serializers.Serializer):
    priority = serializers.ChoiceField(
        choices=Ticket.Priority.choices, required=False, help_text="Required unless a category is given."
    )
    category = serializers.CharField(
        required=False, help_text="A category code; gives the team, and the priority when none is given."
    )
    channel = serializers.ChoiceField(choices=Ticket.Channel.choices, required=False, help_text="Default: web.")
    at = serializers.CharField(help_text="ISO-8601 instant, e.g. 2026-09-30T17:00:00+08:00.")


class SLAPreviewPolicySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class SLAPreviewSerializer(serializers.Serializer):
    """What ``tickets.selectors.sla_preview`` answers (instants in the calendar's time zone)."""

    priority = serializers.ChoiceField(choices=Ticket.Priority.choices)
    channel = serializers.ChoiceField(choices=Ticket.Channel.choices)
    category = serializers.CharField(allow_null=True, help_text="The category code asked about, if any.")
    at = serializers.DateTimeField(help_text="The instant asked about, as given.")
    policy = SLAPreviewPolicySerializer(help_text="The policy that applies (the first whose conditions hold).")
    first_response_due = serializers.DateTimeField()
    next_response_due = serializers.DateTimeField(help_text="Assuming a consumer message at ``at``.")
    resolution_due = serializers.DateTimeField()
