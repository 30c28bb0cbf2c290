"""The DCSA endpoints against the DCSA T&T 2.2 spec itself (not our OpenAPI), with schemathesis.

Every operation of ../shared/specs/dcsa-tnt-v2.2.0.yaml is called over real HTTP (uvicorn on a
free loopback port) with generated requests, valid and invalid: no server errors, responses
(bodies, headers, status codes, media types) conform to the spec, invalid requests are refused
and valid ones accepted.

Where our documented rules are stricter than the spec's schema, valid generated requests are
brought within them before sending (and the rule itself is tested in test_api_dcsa.py):
- `cursor` is a value the server hands out; a made-up one is refused (400), so positive cases
  do not invent one;
- a subscription's callbackUrl must be http(s) and its secret 16-1024 bytes; a PUT body names
  no secret (that is PUT .../secret) and no subscriptionID other than the path's.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
import schemathesis
from api_client import served
from api_world import ingest_world
from schemathesis.config import SchemathesisConfig

from api.app import create_app
from api.auth import create_key
from quaysync.config import ApiOptions
from store.tables_api import EventSubscriptionRow
from tests.conftest import SPECS

SPEC = SPECS / "dcsa-tnt-v2.2.0.yaml"
EXAMPLE_ID = "123e4567-e89b-12d3-a456-426614174000"  # the spec's example subscriptionID / eventID
SECRET = base64.b64encode(b"a shared secret of 32 bytes ....").decode()
CONFIG = SchemathesisConfig.from_dict({"generation": {"max-examples": 12}})


@pytest.fixture(scope="module")
def dcsa_api(tmp_path_factory: pytest.TempPathFactory):
    """(base URL, token) of the API served by uvicorn over a store holding the test world."""
    from store import open_store

    folder = tmp_path_factory.mktemp("dcsa")
    store = open_store(f"sqlite:///{folder}/quaysync.db")
    ingest_world(store)
    with store.session() as session:
        token = create_key(session, "schemathesis")
        now = datetime.now(UTC)
        # the spec's example ID names a real subscription, so its examples reach real updates
        session.add(
            EventSubscriptionRow(
                id=EXAMPLE_ID,
                owner="schemathesis",
                callback_url="https://subscriber.example/cb",
                secret=SECRET,
                filters={},
                created_at=now,
                updated_at=now,
            )
        )
    with served(create_app(store, ApiOptions(require_api_key=True))) as base_url:
        yield base_url, token
    store.dispose()


# Loaded once at collection: the spec file, not the app's own OpenAPI document.
schema = schemathesis.openapi.from_path(SPEC, config=CONFIG)


def _within_our_rules(case) -> None:
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if isinstance(case.query, dict):
        case.query.pop("cursor", None)
    subscription_body = case.method == "POST" or (case.method == "PUT" and not case.path.endswith("/secret"))
    if subscription_body and isinstance(case.body, dict):
        case.body["callbackUrl"] = "https://subscriber.example/callback"
        if case.method == "POST":
            case.body["secret"] = SECRET
        else:
            case.body.pop("secret", None)
            case.body.pop("subscriptionID", None)
    if case.path.endswith("/secret") and isinstance(case.body, dict):
        case.body["secret"] = SECRET


@schema.parametrize()
def test_dcsa_spec_conformance(case, dcsa_api) -> None:
    base_url, token = dcsa_api
    _within_our_rules(case)
    case.call_and_validate(base_url=base_url, headers={"X-API-Key": token})
