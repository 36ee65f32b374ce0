"""What every staff page shares (the reports, the merchants' scorecards): who may
read it is a predicate of the user, decided by the domain's access rules."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache


def staff_page(allowed: Callable[[object], bool]) -> Callable[[Callable], Callable]:
    """A decorator for pages of the staff side that only users for whom
    ``allowed(user)`` holds may read: others get 403, anonymous visitors are sent
    to the desk's sign-in. Never cached (the figures are live)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("desk:login"))
            if not allowed(request.user):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return never_cache(wrapped)

    return decorator
