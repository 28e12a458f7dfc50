"""A member's own learning: /next, /progress (with its picture card), /done, /undo, /roadmap, /topic and /follow.

With several roadmaps loaded, each member follows one (/follow, or where most of their finished topics are):
/next, /progress, /roadmap, topic names and answers are that roadmap's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.discord_app import render
from bot.discord_app.context import member_of, roadmap_autocomplete
from bot.discord_app.quiz import progress_file
from bot.discord_app.tree import Refused
from bot.tutor import Member

if TYPE_CHECKING:
    from bot.discord_app.client import TutorBot


class Learning(commands.Cog):
    def __init__(self, bot: TutorBot) -> None:
        self.bot = bot

    async def _topic_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        choices = self.bot.tutor.topic_choices(current, member_of(interaction))
        return [app_commands.Choice(name=c.name, value=c.value) for c in choices]

    async def _done_topic_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        choices = self.bot.tutor.topic_choices(current, member_of(interaction), only_completed=True)
        return [app_commands.Choice(name=c.name, value=c.value) for c in choices]

    @app_commands.command(name="next", description="What you should study next, from your progress")
    async def next(self, interaction: discord.Interaction) -> None:
        picks = await self.bot.tutor.next_steps(member_of(interaction))
        finished = await self.bot.tutor.after_roadmap(member_of(interaction))
        await interaction.response.send_message(embed=render.next_embed(picks, finished), ephemeral=True)

    @app_commands.command(name="follow", description="Choose your roadmap: /next, /progress and answers use it")
    @app_commands.describe(roadmap="The roadmap to follow (start typing to search)")
    @app_commands.autocomplete(roadmap=roadmap_autocomplete)
    async def follow(self, interaction: discord.Interaction, roadmap: app_commands.Range[str, 1, 120]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # a write: see /done
        chosen = await self.bot.tutor.follow(member_of(interaction), roadmap)
        picks = await self.bot.tutor.next_steps(member_of(interaction))
        await interaction.followup.send(
            f"You now follow **{chosen.title}**.", embed=render.next_embed(picks), ephemeral=True
        )

    @app_commands.command(name="progress", description="Progress by step, what you know of each topic, streak, a card")
    @app_commands.describe(
        member="Someone else in this server (default: you)",
        roadmap="Another roadmap (default: the one followed; start typing to search)",
        card="Attach the progress card, a picture (default: yes)",
    )
    @app_commands.autocomplete(roadmap=roadmap_autocomplete)
    async def progress(
        self,
        interaction: discord.Interaction,
        member: discord.Member | discord.User | None = None,
        roadmap: app_commands.Range[str, 1, 120] | None = None,
        card: bool = True,
    ) -> None:
        target = member_of(interaction)
        whose = interaction.user.display_name
        if member is not None:
            # Discord sends member data only for members of this server; anyone else arrives as a User.
            in_guild = isinstance(member, discord.Member) and interaction.guild is not None
            if not in_guild or member.guild.id != interaction.guild.id:
                raise Refused("You can only see the progress of members of this server.")
            target = Member(interaction.guild.id, member.id)
            whose = member.display_name
        # Reading the review schedule and drawing the card take longer than a plain reply: defer first.
        await interaction.response.defer(ephemeral=True, thinking=True)
        tutor = self.bot.tutor
        shown = tutor.find_roadmap(roadmap) if roadmap is not None else None
        report = await tutor.progress(target, shown)
        embed = render.progress_embed(report, whose, await tutor.knowledge(target, shown))
        if not card:
            await interaction.followup.send(embed=embed, ephemeral=True)
            return
        png = await tutor.progress_card(target, whose, shown)  # drawn in a worker thread
        if len(png) > interaction.filesize_limit:  # Discord's limit here; a card is tens of kilobytes
            await interaction.followup.send(embed=embed, ephemeral=True)
            return
        embed.set_image(url="attachment://progress.png")
        await interaction.followup.send(embed=embed, file=progress_file(png), ephemeral=True)

    @app_commands.command(name="done", description="Mark a topic as finished")
    @app_commands.describe(topic="The topic you finished (start typing to search)")
    @app_commands.autocomplete(topic=_topic_autocomplete)
    async def done(self, interaction: discord.Interaction, topic: app_commands.Range[str, 1, 100]) -> None:
        # A write can wait on a busy database (up to its 5 s busy timeout), longer than Discord's 3 s to
        # acknowledge: defer first, so that even an apology still reaches the member.
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.bot.tutor.mark_done(member_of(interaction), topic)
        title = result.entry.topic.title
        status = f"Marked **{title}** as done. ✅" if result.changed else f"**{title}** was already done."
        await interaction.followup.send(status, embed=render.next_embed(result.next_steps), ephemeral=True)

    @app_commands.command(name="undo", description="Unmark a topic you marked as finished")
    @app_commands.describe(topic="The topic to unmark (start typing to search)")
    @app_commands.autocomplete(topic=_done_topic_autocomplete)
    async def undo(self, interaction: discord.Interaction, topic: app_commands.Range[str, 1, 100]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # a write: see /done
        result = await self.bot.tutor.undo(member_of(interaction), topic)
        title = result.entry.topic.title
        status = f"Unmarked **{title}**." if result.changed else f"**{title}** wasn't marked as done."
        await interaction.followup.send(status, ephemeral=True)

    @app_commands.command(name="roadmap", description="Browse the roadmap with your status on each topic")
    @app_commands.describe(
        step="Only this step (default: all steps)",
        name="Another roadmap (default: the one you follow; start typing to search)",
    )
    @app_commands.autocomplete(name=roadmap_autocomplete)
    async def roadmap(
        self,
        interaction: discord.Interaction,
        step: app_commands.Range[int, 1, 50] | None = None,
        name: app_commands.Range[str, 1, 120] | None = None,
    ) -> None:
        shown = self.bot.tutor.find_roadmap(name) if name is not None else None
        shown = shown or await self.bot.tutor.followed_roadmap(member_of(interaction))
        view = await self.bot.tutor.roadmap(member_of(interaction), step, shown)
        if not view:
            raise Refused(f"There is no step {step}.")
        title = shown.title if shown is not None else "Roadmap"
        await interaction.response.send_message(embed=render.roadmap_embed(title, view), ephemeral=True)

    @app_commands.command(name="topic", description="A topic's card: what it is, key points, what to study")
    @app_commands.describe(name="The topic (start typing to search)")
    @app_commands.autocomplete(name=_topic_autocomplete)
    async def topic(self, interaction: discord.Interaction, name: app_commands.Range[str, 1, 100]) -> None:
        card = self.bot.tutor.topic_card(name, member_of(interaction))
        kb = self.bot.tutor.kb
        resources = [
            (kb.resources[r].resource.title, str(kb.resources[r].resource.url)) for r in card.entry.topic.resources
        ]
        await interaction.response.send_message(embed=render.topic_embed(card, resources), ephemeral=True)
