"""API keys: hashed in the store, sent as Bearer or X-API-Key, revocable; some routes stay open."""

from __future__ import annotations

from api_world import DISCHARGED
from sqlalchemy import select

from api.auth import create_key, hash_token, list_keys, revoke_key
from quaysync.errors import BadInputError
from store.tables_api import ApiKeyRow


def test_keys_are_stored_as_hashes_only(store) -> None:
    with store.session() as session:
        token = create_key(session, "erp")
    with store.session() as session:
        rows = session.execute(select(ApiKeyRow)).scalars().all()
    assert len(rows) == 1 and rows[0].name == "erp"
    assert rows[0].key_hash == hash_token(token) and len(rows[0].key_hash) == 64
    everything = " ".join(str(value) for value in rows[0].model_dump().values())
    assert token not in everything


def test_key_names_are_unique_until_revoked(store) -> None:
    with store.session() as session:
        first = create_key(session, "chatbot")
    with store.session() as session:
        try:
            create_key(session, "chatbot")
        except BadInputError as error:
            assert "revoke it first" in str(error)
        else:
            raise AssertionError("a second active key under one name was created")
    with store.session() as session:
        assert revoke_key(session, "chatbot") is True
        assert revoke_key(session, "chatbot") is False
    with store.session() as session:
        second = create_key(session, "chatbot")
        assert second != first
        assert [key["active"] for key in list_keys(session)] == [True]
    with store.session() as session:
        try:
            create_key(session, "no spaces allowed")
        except BadInputError:
            pass
        else:
            raise AssertionError("a bad key name was accepted")


def test_requests_need_a_valid_key(keyed) -> None:
    client, token = keyed
    missing = client.get(f"/containers/{DISCHARGED}")
    assert missing.status_code == 401
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert (
        client.get(f"/containers/{DISCHARGED}", headers={"Authorization": "Bearer qsk_wrong"}).status_code
        == 401
    )
    assert (
        client.get(f"/containers/{DISCHARGED}", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    assert client.get(f"/containers/{DISCHARGED}", headers={"X-API-Key": token}).status_code == 200
    for path in ("/v2/events", "/runs", "/alerts", "/hotspots", "/containers"):
        assert client.get(path).status_code == 401, path
        assert client.get(path, headers={"X-API-Key": token}).status_code == 200, path
    assert client.post("/ask", json={"question": DISCHARGED}).status_code == 401


def test_revoked_keys_are_refused_at_once(keyed) -> None:
    client, token = keyed
    headers = {"X-API-Key": token}
    assert client.get("/containers", headers=headers).status_code == 200
    with client.app.state.store.session() as session:
        assert revoke_key(session, "erp")
    response = client.get("/containers", headers=headers)
    assert response.status_code == 401 and "revoked" in response.json()["detail"]


def test_documentation_stays_open(keyed) -> None:
    client, _ = keyed
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200


def test_extra_routers_are_served_open(store) -> None:
    from api_client import TestClient
    from fastapi import APIRouter

    from api.app import create_app
    from quaysync.config import ApiOptions

    health = APIRouter()

    @health.get("/health")
    def healthy() -> dict[str, str]:
        return {"status": "ok"}

    app = create_app(store, ApiOptions(require_api_key=True), extra_routers=[health])
    with TestClient(app) as client:
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/containers").status_code == 401
