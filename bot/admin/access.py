"""Who may run the admin commands."""

from __future__ import annotations

from collections.abc import Iterable


def is_admin(manage_guild: bool, role_ids: Iterable[int], admin_role_ids: Iterable[int]) -> bool:
    """Members who may manage the server, or who hold one of the configured admin roles.

    `manage_guild` is the member's computed permission (Discord sets every bit for administrators
    and the owner), so it already covers them.
    """
    return manage_guild or not set(role_ids).isdisjoint(admin_role_ids)
