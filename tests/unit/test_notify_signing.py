"""Signed accept/decline links (shared with the matcher) and Standard Webhooks signatures,
the latter checked by the reference implementation a receiver would use."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from oncoroute_notify.adapters.channels.webhook import signature
from oncoroute_shared.signed_links import InvalidLink, LinkClaims, link, sign, verify

pytestmark = pytest.mark.unit
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
CLAIMS = LinkClaims("as-1", "sp-1", "accept", NOW + timedelta(hours=1))
SECRET = "a-link-secret-of-some-length"


def test_a_valid_token_verifies_and_names_its_offer() -> None:
    token = sign(SECRET, CLAIMS)
    assert verify(SECRET, token, now=NOW, action="accept", assignment_id="as-1") == CLAIMS
    url = link("https://m.example.org/", SECRET, CLAIMS)
    assert url == f"https://m.example.org/v1/assignments/as-1/accept?token={token}"


@pytest.mark.parametrize(("mutate", "problem"), [
    (lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"), "bad signature"),
    (lambda t: "v2" + t[2:], "malformed token"),
    (lambda t: t.split(".")[0], "malformed token"),
    (lambda t: t + ".x", "malformed token"),
])
def test_tampered_tokens_are_refused(mutate, problem) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidLink, match=problem):
        verify(SECRET, mutate(sign(SECRET, CLAIMS)), now=NOW)


def test_claims_cannot_be_swapped_between_tokens() -> None:
    accept = sign(SECRET, CLAIMS).split(".")
    decline = sign(SECRET, LinkClaims("as-1", "sp-1", "decline", CLAIMS.expires_at)).split(".")
    with pytest.raises(InvalidLink, match="bad signature"):
        verify(SECRET, ".".join([accept[0], decline[1], accept[2]]), now=NOW)


def test_expired_wrong_action_wrong_assignment_and_wrong_secret() -> None:
    token = sign(SECRET, CLAIMS)
    with pytest.raises(InvalidLink, match="expired"):
        verify(SECRET, token, now=CLAIMS.expires_at)
    with pytest.raises(InvalidLink, match="another action"):
        verify(SECRET, token, now=NOW, action="decline")
    with pytest.raises(InvalidLink, match="another assignment"):
        verify(SECRET, token, now=NOW, assignment_id="as-2")
    with pytest.raises(InvalidLink, match="bad signature"):
        verify("another-secret-entirely", token, now=NOW)


def test_rotation_accepts_the_previous_secret() -> None:
    token = sign("old-secret-0123456789", CLAIMS)
    assert verify(["new-secret-0123456789", "old-secret-0123456789"], token, now=NOW) == CLAIMS


def test_webhook_signature_verifies_with_the_standard_webhooks_library() -> None:
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    body = orjson.dumps({"case_id": "c-1", "status": "ready"})
    ts = int(datetime.now(UTC).timestamp())
    headers = {"webhook-id": "d-1", "webhook-timestamp": str(ts),
               "webhook-signature": signature(secret, "d-1", ts, body)}
    assert Webhook(secret).verify(body, headers) == {"case_id": "c-1", "status": "ready"}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"ready", b"closed"), headers)
    stale = {**headers, "webhook-timestamp": str(ts - 3600),
             "webhook-signature": signature(secret, "d-1", ts - 3600, body)}
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(secret).verify(body, stale)  # a replay an hour later is refused
