from rest_framework import serializers

from tickets.models import Ticket
from tickets.privacy import mask_contact


class TicketSerializer(serializers.ModelSerializer):
    """A ticket as the staff API shows it: the queue row, the consumer's contact masked."""

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
