"""The conformance run: schemathesis generates requests from the live OpenAPI
schema (/api/schema/) — valid ones and deliberately invalid ones (wrong types,
missing fields, out-of-range values) — for every operation, and sends each as
an anonymous caller, an agent, a manager and a merchant (API tokens). It fails
on any 5xx, any status code, content type, header or body the schema does not
describe, and any invalid request that is not refused with a 4xx."""

import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
CALLERS = ("anonymous", "agent", "manager", "merchant")


# The live schema, fetched from the application itself when the tests are collected
# (its generation needs no database). schemathesis.pytest.from_fixture would load it
# per test, but its lazy loader does not work with pytest 9.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@pytest.fixture(autouse=True)
def _requests_keep_the_test_connection(db):
    """In-process requests share the test's database connection and transaction;
    the handler must not close it at the end of each request (Django's test
    client does the same)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("CONFORMANCE_EXAMPLES", 25)),
    deadline=None,
    # The same requests on every run: CI must not pass or fail by luck (change the
    # schema or the code and the requests change with them). CONFORMANCE_EXPLORE=1
    # draws new ones each run, to look for more.
    derandomize=not os.environ.get("CONFORMANCE_EXPLORE"),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_api_conforms_to_its_schema(case, world):
    for caller in CALLERS:
        headers = {"Authorization": f"Bearer {world.keys[caller]}"} if caller in world.keys else {}
        case.call_and_validate(headers=headers, checks=CHECKS)
