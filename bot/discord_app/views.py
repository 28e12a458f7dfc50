"""Buttons under an answer: mark its topic done, see the next step, and say whether it helped. They survive
restarts."""

from __future__ import annotations

import logging
import re

import discord

from bot.answering import Answer
from bot.discord_app import render
from bot.discord_app.context import bot_of, member_of
from bot.discord_app.feedback import feedback_buttons
from bot.storage.errors import StorageError
from bot.tutor import UnknownTopic

log = logging.getLogger(__name__)


class DoneButton(discord.ui.DynamicItem[discord.ui.Button], template=r"tutor:done:(?P<topic>[a-z0-9-]{1,80})"):
    """Marks the answer's topic done for whoever clicks it (each member tracks their own progress)."""

    def __init__(self, topic_id: str, label: str = "Mark as done") -> None:
        super().__init__(
            discord.ui.Button(
                label=render.clip(label, 80), style=discord.ButtonStyle.success, custom_id=f"tutor:done:{topic_id}"
            )
        )
        self.topic_id = topic_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> DoneButton:
        return cls(match["topic"])

    async def callback(self, interaction: discord.Interaction) -> None:
        # Saving may wait on a busy database longer than Discord's 3 s to acknowledge (see /done).
        await interaction.response.defer(ephemeral=True, thinking=True)
        tutor = bot_of(interaction).tutor
        try:
            result = await tutor.mark_done(member_of(interaction), self.topic_id)
        except UnknownTopic as exc:
            await interaction.followup.send(str(exc), ephemeral=True)
            return
        except StorageError as exc:  # a button's errors do not reach the command tree's error handler
            log.warning("storage problem on the done button: %s", exc)
            await interaction.followup.send(exc.user_message, ephemeral=True)
            return
        title = result.entry.topic.title
        status = f"Marked **{title}** as done. ✅" if result.changed else f"**{title}** was already done."
        await interaction.followup.send(status, embed=render.next_embed(result.next_steps), ephemeral=True)


class NextButton(discord.ui.DynamicItem[discord.ui.Button], template=r"tutor:next"):
    def __init__(self) -> None:
        super().__init__(
            discord.ui.Button(label="What next?", style=discord.ButtonStyle.primary, custom_id="tutor:next")
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ) -> NextButton:
        return cls()

    async def callback(self, interaction: discord.Interaction) -> None:
        try:
            picks = await bot_of(interaction).tutor.next_steps(member_of(interaction))
        except StorageError as exc:
            log.warning("storage problem on the next button: %s", exc)
            await interaction.response.send_message(exc.user_message, ephemeral=True)
            return
        await interaction.response.send_message(embed=render.next_embed(picks), ephemeral=True)


def answer_view(answer: Answer, asker_id: int) -> discord.ui.View | None:
    """The buttons under an answer: mark its topic done and what next (unless it declined), and the asker's
    feedback on it (when its question was logged); None when there are none."""
    view = discord.ui.View(timeout=None)
    if not answer.abstained:
        if answer.topic_id:
            view.add_item(DoneButton(answer.topic_id))
        view.add_item(NextButton())
    if answer.log_key:
        for button in feedback_buttons(asker_id, answer.log_key):
            view.add_item(button)
    return view if view.children else None
