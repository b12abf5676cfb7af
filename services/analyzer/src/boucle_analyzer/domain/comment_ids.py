"""The id a comment record is kept and cited under: unique per response. Pure.

A survey response's comments and free-text answers are identified by the response
(``response_id``, the platform's own id, stable across redeliveries) and by their own id
within it (``comment_id``, or the question of a free-text answer). The comment id alone
is not enough: the collector names a comment after the form question it answers, so every
response to a form carries the same one. Joined, ``<response_id>:<comment id>`` names one
text of one response, and a reader can find it in the collector's or the reporter's data.
"""

from __future__ import annotations

import uuid

MAX_ID = 128  # the contracts' Identifier length


def response_comment_id(response_id: str, item_id: str) -> str:
    """``<response_id>:<item_id>``, an Identifier of at most 128 characters.

    An ``item_id`` that already starts with ``<response_id>:`` (a client naming its
    comments within the response) is kept as it is. Longer than 128 characters, the
    joined id becomes ``text:<uuid5>``, the same for the same parts.
    """
    if item_id.startswith(f"{response_id}:"):
        return item_id
    joined = f"{response_id}:{item_id}"
    return joined if len(joined) <= MAX_ID else f"text:{uuid.uuid5(uuid.NAMESPACE_URL, joined)}"
