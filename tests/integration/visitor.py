# visitor: a visitor as the tests make one: a fresh id, and the Redis key of its
# profile (the schema of core/tailor/store/keys.h).

import secrets


def profile_key(vid):
    return "tailor:{%s}:profile" % vid


def new_vid():
    """A fresh random visitor id (URL-safe base64 characters), never one
    starting with "-", which tailorctl sign would take for an option."""
    while True:
        v = secrets.token_urlsafe(16)
        if not v.startswith("-"):
            return v
