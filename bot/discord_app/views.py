"""Buttons under an answer: mark its topic done, and see the next step. They survive restarts."""

from __future__ import annotations

import re

import discord

from bot.discord_app import render
from bot.discord_app.context import bot_of, member_of
from bot.tutor import UnknownTopic


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
        tutor = bot_of(interaction).tutor
        try:
            result = await tutor.mark_done(member_of(interaction), self.topic_id)
        except UnknownTopic as exc:
            await interaction.response.send_message(str(exc), ephemeral=True)
            return
        title = result.entry.topic.title
        status = f"Marked **{title}** as done. ✅" if result.changed else f"**{title}** was already done."
        await interaction.response.send_message(status, embed=render.next_embed(result.next_steps), ephemeral=True)


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
        picks = await bot_of(interaction).tutor.next_steps(member_of(interaction))
        await interaction.response.send_message(embed=render.next_embed(picks), ephemeral=True)


def answer_view(topic_id: str | None) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if topic_id:
        view.add_item(DoneButton(topic_id))
    view.add_item(NextButton())
    return view
