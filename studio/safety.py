"""The ``safety_identifier`` sent with every Images API request: OpenAI uses it to tell one
abusive user from the rest of a deployment. It must be stable per user and say nothing about
them, so it is an HMAC of the user's primary key, never their name or e-mail."""

from __future__ import annotations

from django.conf import settings
from django.utils.crypto import salted_hmac

# The salt makes the HMAC key one derived from SECRET_KEY for this use only.
_SALT = "studio.safety_identifier"


def safety_identifier(*, user_id: int) -> str:
    """64 hex characters (OpenAI's limit), the same for the same user while SECRET_KEY stays.
    Rotating SECRET_KEY starts a new identifier per user, which loses only their history at OpenAI."""
    return salted_hmac(_SALT, str(user_id), secret=settings.SECRET_KEY, algorithm="sha256").hexdigest()
