from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Merchant
from cs_desk.api import StrictSerializer, by_rule
from merchants.models import MerchantPenalty, MerchantScorecard
from tickets.models import Message, SLATarget, Ticket
from tickets.privacy import mask_email, mask_phone
from tickets.rules import message_clean


class ComplaintSerializer(serializers.ModelSerializer):
    """A complaint as the merchant sees it: no internal notes, the consumer's contact masked."""

    category = serializers.CharField(source="category.name", read_only=True)
    requester_phone = serializers.SerializerMethodField()
    requester_email = serializers.SerializerMethodField()
    reply_state = serializers.ChoiceField(
        choices=SLATarget.Status.choices, read_only=True,
        help_text="Your reply's deadline: running or paused (awaiting your reply), met, missed, or cancelled.",
    )  # fmt: skip
    reply_due_at = serializers.DateTimeField(source="reply_due", read_only=True)
    forwarded_at = serializers.DateTimeField(read_only=True)

    class Meta:
        model = Ticket
        fields = [
            "id", "reference", "subject", "category", "order_number", "status", "requester_name",
            "requester_phone", "requester_email", "reply_state", "reply_due_at", "forwarded_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields

    def get_requester_phone(self, ticket: Ticket) -> str:
        return mask_phone(ticket.requester_phone)

    def get_requester_email(self, ticket: Ticket) -> str:
        return mask_email(ticket.requester_email)


# Who wrote a message, as a merchant is told: the consumer, your shop, or the platform.
PUBLIC_AUTHORS = ["consumer", "merchant", "platform"]


class PublicMessageSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = ["id", "author", "body", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=PUBLIC_AUTHORS))
    def get_author(self, message: Message) -> str:
        """``consumer``, ``merchant`` (your shop) or ``platform``."""
        if message.author_kind in (Message.AuthorKind.CONSUMER, Message.AuthorKind.MERCHANT):
            return message.author_kind
        return "platform"


class PlatformNoteSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="When the platform forwarded the complaint with this note.")
    note = serializers.CharField()


class ComplaintDetailSerializer(ComplaintSerializer):
    messages = serializers.SerializerMethodField()
    platform_notes = serializers.SerializerMethodField()

    class Meta(ComplaintSerializer.Meta):
        fields = [*ComplaintSerializer.Meta.fields, "platform_notes", "messages"]
        read_only_fields = fields

    @extend_schema_field(PublicMessageSerializer(many=True))
    def get_messages(self, ticket: Ticket) -> list[dict]:
        return PublicMessageSerializer(self.context["conversation"], many=True).data

    @extend_schema_field(PlatformNoteSerializer(many=True))
    def get_platform_notes(self, ticket: Ticket) -> list[dict]:
        return [{"at": n["at"].isoformat(), "note": n["note"]} for n in self.context["notes"]]


class ReplySerializer(StrictSerializer):
    body = serializers.CharField(
        trim_whitespace=True, help_text="At most MESSAGE_MAX_CHARS characters (10,000 by default)."
    )

    def validate_body(self, body: str) -> str:
        return by_rule(message_clean, body)


class PenaltySerializer(serializers.ModelSerializer):
    reason = serializers.CharField(source="reason_text", read_only=True)
    tickets = serializers.SlugRelatedField(slug_field="reference", many=True, read_only=True)
    imposed_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = MerchantPenalty
        fields = ["kind", "status", "points", "reason", "tickets", "imposed_at", "ended_at"]
        read_only_fields = fields


class ScorecardSerializer(serializers.Serializer):
    """A merchant's stored scorecard (``merchants.models.MerchantScorecard``,
    the score every door shows), with the merchant's status, the complaints
    awaiting its reply now and its penalties (``context["merchant"]``,
    ``context["pending"]``, ``context["penalties"]``)."""

    score = serializers.DecimalField(max_digits=5, decimal_places=1, coerce_to_string=False)
    status = serializers.SerializerMethodField()
    window_days = serializers.SerializerMethodField()
    computed_at = serializers.DateTimeField(
        allow_null=True, help_text="When these figures were computed (last changed); null before the first time."
    )
    forwarded = serializers.IntegerField(help_text="Complaints with a known outcome in the window.")
    answered = serializers.IntegerField()
    unanswered = serializers.IntegerField()
    pending = serializers.SerializerMethodField()
    reply_rate = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True, coerce_to_string=False)
    unanswered_percent = serializers.DecimalField(
        max_digits=5, decimal_places=1, allow_null=True, coerce_to_string=False, help_text="100 − reply_rate."
    )
    median_reply_seconds = serializers.IntegerField(allow_null=True)
    strikes = serializers.IntegerField()
    penalty_points = serializers.DecimalField(max_digits=5, decimal_places=1, coerce_to_string=False)
    penalties = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ChoiceField(choices=Merchant.Status.choices))
    def get_status(self, card: MerchantScorecard) -> str:
        return self.context["merchant"].status

    def get_window_days(self, card: MerchantScorecard) -> int:
        return settings.MERCHANT_SCORE_WINDOW_DAYS

    def get_pending(self, card: MerchantScorecard) -> int:
        """Complaints whose reply deadline is still running (not part of the score)."""
        return self.context["pending"]

    @extend_schema_field(PenaltySerializer(many=True))
    def get_penalties(self, card: MerchantScorecard) -> list[dict]:
        return PenaltySerializer(self.context["penalties"], many=True).data
