"""Feedback on answers: a helpful and a not-helpful button under every answer, and a form asking what the member was
looking for when it did not help. The feedback is kept with the question in the log (`Tutor.feedback`).

Every custom id names the member who asked and the question's log key, so a click works after a restart and anyone
else's click is refused. The form's submission is handled here too (`on_interaction`), not by a `discord.ui.Modal`
kept in memory, so one submitted after a restart is still kept.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.discord_app.context import bot_of, member_of
from bot.storage.base import FEEDBACK_TEXT_MAX
from bot.storage.errors import StorageError

if TYPE_CHECKING:
    from bot.discord_app.client import TutorBot

log = logging.getLogger(__name__)

NOT_YOURS = "Only the member who asked can rate this answer. Ask your own question with /ask to rate its answer."
THANKS_HELPFUL = "Thanks for telling me: glad it helped."
THANKS_UNHELPFUL = "Thanks: I've noted it. The server's admins see answers that didn't help, and can teach me better."
NOT_IN_LOG = (
    "I couldn't find that question in my log any more (questions are kept for a limited time, and not after "
    "/privacy forget), so nothing was recorded."
)
LOOKING_FOR = "looking_for"  # the form's text input
WHY_TEMPLATE = re.compile(r"tutor:fb:why:(?P<user>\d{1,20}):(?P<key>[0-9a-f]{12})")


class FeedbackButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=r"tutor:fb:(?P<verdict>up|down):(?P<user>\d{1,20}):(?P<key>[0-9a-f]{12})",
):
    """👍 or 👎 under an answer, for the member who asked (`user`) about the question logged as `key`."""

    def __init__(self, helpful: bool, user_id: int, key: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Helpful" if helpful else "Not helpful",
                emoji="👍" if helpful else "👎",
                style=discord.ButtonStyle.secondary,
                custom_id=f"tutor:fb:{'up' if helpful else 'down'}:{user_id}:{key}",
            )
        )
        self.helpful, self.user_id, self.key = helpful, user_id, key

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> FeedbackButton:
        return cls(match["verdict"] == "up", int(match["user"]), match["key"])

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id == self.user_id:
            return True
        await interaction.response.send_message(NOT_YOURS, ephemeral=True)
        return False

    async def callback(self, interaction: discord.Interaction) -> None:
        if self.helpful:
            # Acknowledged first: saving may wait on a busy database longer than Discord's 3 s.
            await interaction.response.defer(ephemeral=True, thinking=True)
            await _record(interaction, self.key, True, None, THANKS_HELPFUL)
            return
        # The form is the first response (it cannot follow a defer); the mark itself is saved after it, so
        # that it counts even when the member closes the form without writing anything.
        await interaction.response.send_modal(why_form(self.user_id, self.key))
        try:
            if not await bot_of(interaction).tutor.feedback(member_of(interaction), self.key, False):
                log.info("not-helpful mark for a question no longer in the log (user %s)", interaction.user.id)
        except StorageError as exc:  # nothing more can be said to the member: the form is their answer
            log.warning("could not save a not-helpful mark: %s", exc)


def why_form(user_id: int, key: str) -> discord.ui.Modal:
    """The form asking what the member was looking for: optional, at most `FEEDBACK_TEXT_MAX` characters."""
    form = discord.ui.Modal(title="What were you looking for?", custom_id=f"tutor:fb:why:{user_id}:{key}")
    form.add_item(
        discord.ui.TextInput(
            label="What did you want to know? (optional)",
            custom_id=LOOKING_FOR,
            style=discord.TextStyle.paragraph,
            placeholder="e.g. an example in code, or a different topic",
            required=False,
            max_length=FEEDBACK_TEXT_MAX,
        )
    )
    # Finished before it is sent, so discord.py keeps no copy waiting for it: `Feedback.on_interaction` takes the
    # submission, from this process or one started since.
    form.stop()
    return form


def submitted_text(data: dict[str, Any], custom_id: str) -> str:
    """The value of text input `custom_id` in a form's submission (in an action row or a label)."""
    for row in data.get("components") or []:
        inner = row.get("components") or ([row["component"]] if isinstance(row.get("component"), dict) else [])
        for component in inner:
            if component.get("custom_id") == custom_id:
                return str(component.get("value") or "")
    return ""


async def _record(
    interaction: discord.Interaction, key: str, helpful: bool, looking_for: str | None, thanks: str
) -> None:
    """Save the feedback and tell the member, privately (the interaction is deferred ephemerally)."""
    try:
        found = await bot_of(interaction).tutor.feedback(member_of(interaction), key, helpful, looking_for)
    except StorageError as exc:  # a button's errors do not reach the command tree's error handler
        log.warning("storage problem saving feedback: %s", exc)
        await interaction.followup.send(exc.user_message, ephemeral=True)
        return
    await interaction.followup.send(thanks if found else NOT_IN_LOG, ephemeral=True)


class Feedback(commands.Cog):
    """Takes the not-helpful form's submissions."""

    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction) -> None:
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        data: dict[str, Any] = interaction.data or {}  # type: ignore[assignment]
        match = WHY_TEMPLATE.fullmatch(str(data.get("custom_id", "")))
        if match is None:
            return
        if interaction.user.id != int(match["user"]):  # only the member shown the form can submit it
            await interaction.response.send_message(NOT_YOURS, ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        text = submitted_text(data, LOOKING_FOR).strip() or None
        await _record(interaction, match["key"], False, text, THANKS_UNHELPFUL)


def feedback_buttons(user_id: int, key: str) -> list[FeedbackButton]:
    return [FeedbackButton(True, user_id, key), FeedbackButton(False, user_id, key)]


FEEDBACK_BUTTONS = (FeedbackButton,)
