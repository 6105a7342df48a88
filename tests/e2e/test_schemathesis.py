"""schemathesis against /openapi.json, in process (WSGI), every check on.

Bounded by a fixed number of examples per operation so it stays well under a
minute. Any server error, any answer the document does not describe (status,
content type, headers, schema), any accepted request the document says is
invalid, and any error body that is not `{"code", "message"}` fails it.
"""

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks

from tests.support.apps import make_app

MAX_EXAMPLES = 25

load_all_checks()
ALL_CHECKS = CHECKS.get_all()


# Built at collection: schemathesis's lazy `from_fixture` does not work with
# pytest 9 (it sets `node._nodeid`), the eager schema does.
APP = make_app(RUNSTREAM_API_KEYS="key-a:tenant-a")
CONFIG = schemathesis.Config.from_dict(
    {"auth": {"openapi": {"bearer": {"bearer": "key-a"}}}}
)
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP, config=CONFIG)


@pytest.fixture(scope="module", autouse=True)
def _stop_the_app():
    yield
    APP.container.run_manager().shutdown(5)
    APP.container.fan_out_hub().close()
    APP.container.unwire()


def error_bodies_are_the_contracts_json(ctx, response, case):
    """Every 4xx/5xx body is exactly `{"code": ..., "message": ...}`."""
    if response.status_code < 400:
        return None
    body = json.loads(response.content)
    assert set(body) == {"code", "message"}, body
    assert isinstance(body["code"], str) and body["code"].isupper(), body
    assert isinstance(body["message"], str) and body["message"], body
    return None


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_answers_as_its_openapi_document_says(case):
    case.call_and_validate(
        checks=ALL_CHECKS,
        additional_checks=[error_bodies_are_the_contracts_json],
    )
