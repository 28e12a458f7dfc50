"""End-to-end proof that the real discord.py client works against the stand-in, and that the
stand-in enforces Discord's rules. Uses a tiny bot defined here, not the product's bot."""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import discord
import pytest
import pytest_asyncio
from discord import app_commands
from discord.ext import commands

from standin import CallbackType, DiscordStandin, ErrorCode, Intent, Perm
from standin.constants import InteractionType
from standin.harness import running
from standin.state import Channel, Guild, Member

pytestmark = pytest.mark.asyncio

TOPICS = [f"topic-{i:02d}" for i in range(40)]


class TinyBot(commands.Bot):
    """Just enough of a bot to exercise every stand-in path."""

    def __init__(self, intents: discord.Intents) -> None:
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.05, chunk_guilds_at_startup=False)
        self.seen: list[discord.Message] = []
        self.errors: list[Exception] = []
        self.resumed = asyncio.Event()
        self.ready_count = 0
        add_commands(self)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py waits 5 s before every re-IDENTIFY (Discord's identify rate limit); not here.
        return None

    async def on_ready(self) -> None:
        self.ready_count += 1

    async def on_resumed(self) -> None:
        self.resumed.set()

    async def on_message(self, message: discord.Message) -> None:
        if message.author.id != self.user.id:  # type: ignore[union-attr]
            self.seen.append(message)


class Feedback(discord.ui.Modal, title="Feedback"):
    text: discord.ui.TextInput[Feedback] = discord.ui.TextInput(label="What could be better?", custom_id="fb-text")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks: {self.text.value}", ephemeral=True)


class Secret(discord.ui.View):
    @discord.ui.button(label="Who", custom_id="secret-who")
    async def who(self, interaction: discord.Interaction, button: discord.ui.Button[Secret]) -> None:
        await interaction.response.send_message(f"clicked by {interaction.user.id}", ephemeral=True)

    @discord.ui.button(label="Done", custom_id="secret-done")
    async def done(self, interaction: discord.Interaction, button: discord.ui.Button[Secret]) -> None:
        await interaction.response.edit_message(content="done", view=None)


class AskWhy(discord.ui.View):
    @discord.ui.button(label="Not helpful", custom_id="ask-why")
    async def why(self, interaction: discord.Interaction, button: discord.ui.Button[AskWhy]) -> None:
        await interaction.response.send_modal(Feedback())


class Again(discord.ui.Modal, title="Again"):
    text: discord.ui.TextInput[Again] = discord.ui.TextInput(label="Once more", custom_id="again-text")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        try:
            await interaction.response.send_modal(Feedback())  # Discord: a modal cannot answer a modal
        except discord.HTTPException as error:
            interaction.client.errors.append(error)  # type: ignore[attr-defined]


class Menu(discord.ui.View):
    @discord.ui.button(label="Next", custom_id="menu-next", style=discord.ButtonStyle.primary)
    async def next(self, interaction: discord.Interaction, button: discord.ui.Button[Menu]) -> None:
        await interaction.response.edit_message(content="page 2", view=None)


def add_commands(bot: TinyBot) -> None:
    tree = bot.tree

    @tree.command(description="Answers pong")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong")

    @tree.command(description="Thinks first, then answers")
    @app_commands.describe(topic="What to think about")
    async def slow(interaction: discord.Interaction, topic: str) -> None:
        await interaction.response.defer(thinking=True)
        await asyncio.sleep(0.05)
        await interaction.followup.send(f"about {topic}")

    @tree.command(description="Finds a topic")
    @app_commands.describe(query="Topic name")
    async def search(interaction: discord.Interaction, query: str) -> None:
        await interaction.response.send_message(f"found {query}")

    @search.autocomplete("query")
    async def search_complete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=t, value=t) for t in TOPICS if current in t][:25]

    @tree.command(description="Answers after the deadline")
    async def late(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.3)
        try:
            await interaction.response.send_message("too late")
        except discord.HTTPException as error:
            bot.errors.append(error)

    @tree.command(description="Answers twice")
    async def double(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("one")
        try:
            # A second owner of the same interaction (discord.py itself would refuse the same object).
            await discord.InteractionResponse(interaction).send_message("two")
        except discord.HTTPException as error:
            bot.errors.append(error)

    @tree.command(description="Embeds a field that is too long")
    async def overlong(interaction: discord.Interaction) -> None:
        embed = discord.Embed(title="t").add_field(name="n", value="v" * 1025)
        try:
            await interaction.response.send_message(embed=embed)
        except discord.HTTPException as error:
            bot.errors.append(error)

    @tree.command(description="Shows a button")
    async def menu(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("page 1", view=Menu())

    @tree.command(description="Opens a modal")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(Feedback())

    @tree.command(description="Shows a button that opens a modal")
    async def rate(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("how was it?", view=AskWhy())

    @tree.command(description="Opens a modal that answers with a modal")
    async def again(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(Again())

    @tree.command(description="Names a member")
    @app_commands.describe(member="Who")
    async def whois(interaction: discord.Interaction, member: discord.Member) -> None:
        await interaction.response.send_message(f"{member.name} has {len(member.roles)} roles", ephemeral=True)

    @tree.command(description="Sends a file")
    async def upload(interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        await interaction.followup.send("here", file=discord.File(io.BytesIO(b"roadmap"), "plan.txt"))

    @tree.command(description="Shows a private button")
    async def secret(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("only you see this", view=Secret(), ephemeral=True)

    @tree.command(description="Sends several files")
    @app_commands.describe(count="How many files", size="Bytes in each")
    async def files(interaction: discord.Interaction, count: int, size: int = 3) -> None:
        await interaction.response.defer()
        sent = [discord.File(io.BytesIO(b"x" * size), f"f{n}.bin") for n in range(count)]
        try:
            await interaction.followup.send("files", files=sent)
        except discord.HTTPException as error:
            bot.errors.append(error)

    @tree.command(description="Shows an embed picture it forgot to attach")
    async def picture(interaction: discord.Interaction) -> None:
        embed = discord.Embed(title="card").set_image(url="attachment://card.png")
        await interaction.response.send_message(embed=embed, file=discord.File(io.BytesIO(b"png"), "other.png"))

    @tree.command(description="Rebuilds the index")
    @app_commands.default_permissions(manage_guild=True)
    async def reindex(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"manage_guild={interaction.permissions.manage_guild}", ephemeral=True)

    notes = app_commands.Group(name="notes", description="Your notes")

    @notes.command(name="add", description="Adds a note")
    @app_commands.describe(text="The note", private="Only you see it")
    async def notes_add(interaction: discord.Interaction, text: str, private: bool = False) -> None:
        await interaction.response.send_message(f"noted: {text}", ephemeral=private)

    tree.add_command(notes)


@dataclass
class Place:
    guild: Guild
    channel: Channel
    learner: Member
    admin: Member


@pytest_asyncio.fixture
async def standin() -> AsyncIterator[DiscordStandin]:
    async with DiscordStandin(valid_token="test-token") as instance:
        yield instance


@pytest.fixture
def place(standin: DiscordStandin) -> Place:
    guild = standin.add_guild("Roadmap")
    channel = standin.add_channel(guild.id, "general")
    admins = standin.add_role(guild.id, "admins", Perm.MANAGE_GUILD)
    return Place(
        guild, channel, standin.add_member(guild.id, "learner"), standin.add_member(guild.id, "boss", [admins])
    )


@contextlib.asynccontextmanager
async def started(
    standin: DiscordStandin, place: Place, intents: discord.Intents | None = None
) -> AsyncIterator[TinyBot]:
    bot = TinyBot(intents or discord.Intents.default())
    async with running(bot, standin):
        guild = discord.Object(place.guild.id)
        bot.tree.copy_global_to(guild=guild)
        await bot.tree.sync(guild=guild)
        yield bot


@pytest_asyncio.fixture
async def bot(standin: DiscordStandin, place: Place) -> AsyncIterator[TinyBot]:
    async with started(standin, place) as instance:
        yield instance


def text_channel(bot: TinyBot, place: Place) -> discord.TextChannel:
    channel = bot.get_channel(place.channel.id)
    assert isinstance(channel, discord.TextChannel)
    return channel


# -- connecting -----------------------------------------------------------------------------------


async def test_wrong_token_is_refused_at_login(standin: DiscordStandin) -> None:
    client = discord.Client(intents=discord.Intents.default())
    with pytest.raises(discord.LoginFailure):
        async with running(client, standin, token="not-the-token"):
            pass
    assert client.is_closed()


async def test_bot_identifies_and_becomes_ready(standin: DiscordStandin, place: Place, bot: TinyBot) -> None:
    assert bot.ready_count == 1
    assert bot.user is not None and bot.user.id == standin.bot_id
    assert bot.application_id == standin.application_id
    assert [g.id for g in bot.guilds] == [place.guild.id]
    assert bot.get_guild(place.guild.id).me is not None  # type: ignore[union-attr]
    assert standin.identify_count == 1
    assert standin.intents == discord.Intents.default().value
    standin.assert_clean()


async def test_disallowed_privileged_intent_closes_with_4014(standin: DiscordStandin, place: Place) -> None:
    standin.allowed_privileged_intents = 0
    intents = discord.Intents.default()
    intents.message_content = True
    with pytest.raises(discord.PrivilegedIntentsRequired):
        async with running(TinyBot(intents), standin):
            pass
    assert [e.code for e in standin.gateway.errors] == [4014]


async def test_guild_sync_registers_commands_with_ids(standin: DiscordStandin, place: Place, bot: TinyBot) -> None:
    synced = {c["name"]: c for c in standin.commands[place.guild.id]}
    assert {"ping", "slow", "search", "notes"} <= set(synced)
    assert synced["notes"]["options"][0]["type"] == 1
    fetched = await bot.tree.fetch_commands(guild=discord.Object(place.guild.id))
    assert {c.id for c in fetched} == {int(c["id"]) for c in synced.values()}


async def test_global_commands_work_in_dms(standin: DiscordStandin, place: Place, bot: TinyBot) -> None:
    with pytest.raises(LookupError):  # only synced per guild so far
        await standin.slash(None, None, place.learner.id, "ping")
    await bot.tree.sync()
    assert "ping" in [c["name"] for c in standin.commands[None]]
    run = await standin.slash(None, None, place.learner.id, "ping")
    answer = await run.wait_final()
    assert answer.content == "pong" and answer.guild_id is None
    standin.assert_clean()


async def test_member_permissions_come_from_roles(standin: DiscordStandin, place: Place, bot: TinyBot) -> None:
    with pytest.raises(PermissionError):  # Discord's client hides the command from this member
        await standin.slash(place.guild.id, place.channel.id, place.learner.id, "reindex")
    admin = await standin.slash(place.guild.id, place.channel.id, place.admin.id, "reindex")
    assert (await admin.wait_final()).content == "manage_guild=True"
    forged = await standin.slash(place.guild.id, place.channel.id, place.learner.id, "reindex", force=True)
    assert (await forged.wait_final()).content == "manage_guild=False"


async def test_heartbeats_are_acknowledged(place: Place) -> None:
    async with DiscordStandin(valid_token="test-token", heartbeat_interval=100) as fast:
        fast.add_guild("Other")
        async with running(TinyBot(discord.Intents.default()), fast) as client:
            await fast.wait_for(lambda: len(fast.gateway.heartbeats) >= 3, what="3 heartbeats")
            assert client.latency < 1.0
            assert max(fast.heartbeat_gaps) < 0.5


# -- interactions ---------------------------------------------------------------------------------


async def test_slash_command_is_answered(standin: DiscordStandin, place: Place, bot: TinyBot) -> None:
    run = await standin.slash(place.guild.id, place.channel.id, place.learner.id, "ping")
    response = await run.wait_response()
    assert response.type == CallbackType.CHANNEL_MESSAGE
    assert (await run.wait_final()).content == "pong"
    assert run.ack_latency is not None and 0 <= run.ack_latency < 1.0
    assert run.payload["data"]["id"] == next(c["id"] for c in standin.commands[place.guild.id] if c["name"] == "ping")
    standin.assert_clean()


async def test_deferred_command_answers_with_a_followup(standin: DiscordStandin, place: Place, bot: TinyBot) -> None:
    run = await standin.slash(place.guild.id, place.channel.id, place.learner.id, "slow", {"topic": "graphs"})
    assert (await run.wait_response()).type == CallbackType.DEFERRED_CHANNEL_MESSAGE
    final = await run.wait_final()
    assert final.content == "about graphs"
    assert [m.content for m in await run.wait_followups(1)] == ["about graphs"]
    assert final.id == run.original_id  # the first followup fills the "thinking..." message
    standin.assert_clean()


async def test_subcommand_and_member_option(standin: DiscordStandin, place: Place, bot: TinyBot) -> None:
    note = await standin.slash(
        place.guild.id,
        place.channel.id,
        place.learner.id,
        "notes",
        {"text": "read SICP", "private": True},
        subcommand="add",
    )
    assert (await note.wait_final()).content == "noted: read SICP"
    assert note.ephemeral
    who = await standin.slash(place.guild.id, place.channel.id, place.learner.id, "whois", {"member": place.admin})
    assert (await who.wait_final()).content == "boss has 2 roles"  # @everyone + admins, from resolved data
    with pytest.raises(ValueError):
        await standin.slash(place.guild.id, place.channel.id, place.learner.id, "slow", {})  # required option
    standin.assert_clean()


async def test_autocomplete_choices_are_received(standin: DiscordStandin, place: Place, bot: TinyBot) -> None:
    run = await standin.autocomplete(place.guild.id, place.channel.id, place.learner.id, "search", "query", "topic-")
    await run.wait_response()
    assert run.choices is not None and len(run.choices) == 25
    assert run.choices[0] == {"name": "topic-00", "value": "topic-00"}
    standin.assert_clean()


async def test_component_click_updates_the_message(standin: DiscordStandin, place: Place, bot: TinyBot) -> None:
    run = await standin.slash(place.guild.id, place.channel.id, place.learner.id, "menu")
    shown = await run.wait_final()
    assert shown.custom_ids() == ["menu-next"]
    click = await standin.click(shown, "menu-next", place.learner.id)
    assert (await click.wait_response()).type == CallbackType.UPDATE_MESSAGE
    assert shown.content == "page 2" and shown.components == []
    standin.assert_clean()


async def test_modal_is_shown_and_submitted(standin: DiscordStandin, place: Place, bot: TinyBot) -> None:
    run = await standin.slash(place.guild.id, place.channel.id, place.learner.id, "feedback")
    await run.wait_response()
    assert run.modal is not None and run.modal["title"] == "Feedback"
    submit = await standin.submit_modal(run, {"fb-text": "more graphs"})
    assert (await submit.wait_final()).content == "thanks: more graphs"
    standin.assert_clean()


async def test_a_button_opens_a_modal_whose_submission_carries_the_message(
    standin: DiscordStandin, place: Place, bot: TinyBot
) -> None:
    shown = await (await standin.slash(place.guild.id, place.channel.id, place.learner.id, "rate")).wait_final()
    click = await standin.click(shown, "ask-why", place.learner.id)
    await click.wait_response()
    assert click.response_type == CallbackType.MODAL and click.modal is not None
    submit = await standin.submit_modal(click, {"fb-text": "an example"})
    assert submit.type == InteractionType.MODAL_SUBMIT and submit.payload["message"]["id"] == str(shown.id)
    assert submit.payload["data"]["components"][0]["components"][0]["value"] == "an example"
    assert (await submit.wait_final()).content == "thanks: an example"
    with pytest.raises(ValueError, match="no inputs"):
        await standin.submit_modal(click, {"fb-text": "y", "not-there": "x"})
    standin.assert_clean()


async def test_a_modal_cannot_answer_a_modal_submission(standin: DiscordStandin, place: Place, bot: TinyBot) -> None:
    run = await standin.slash(place.guild.id, place.channel.id, place.learner.id, "again")
    await run.wait_response()
    submit = await standin.submit_modal(run, {"again-text": "x"})
    rejection = await submit.wait_rejected()
    assert rejection.status == 400 and "not valid for interaction type 5" in rejection.reason
    assert bot.errors and bot.errors[0].status == 400


async def test_followup_with_file_is_multipart(standin: DiscordStandin, place: Place, bot: TinyBot) -> None:
    run = await standin.slash(place.guild.id, place.channel.id, place.learner.id, "upload")
    final = await run.wait_final()
    assert [(a.filename, a.data) for a in final.attachments] == [("plan.txt", b"roadmap")]
    standin.assert_clean()


# -- Discord's rules ------------------------------------------------------------------------------


async def test_late_response_gets_unknown_interaction(standin: DiscordStandin, place: Place, bot: TinyBot) -> None:
    standin.interaction_deadline = 0.2
    run = await standin.slash(place.guild.id, place.channel.id, place.learner.id, "late")
    rejection = await run.wait_rejected()
    assert rejection.code == ErrorCode.UNKNOWN_INTERACTION and run.late
    await standin.wait_for(lambda: bot.errors)
    assert isinstance(bot.errors[0], discord.NotFound) and bot.errors[0].code == 10062


async def test_second_initial_response_gets_40060(standin: DiscordStandin, place: Place, bot: TinyBot) -> None:
    run = await standin.slash(place.guild.id, place.channel.id, place.learner.id, "double")
    assert (await run.wait_rejected()).code == ErrorCode.ALREADY_ACKNOWLEDGED
    await standin.wait_for(lambda: bot.errors)
    assert isinstance(bot.errors[0], discord.HTTPException) and bot.errors[0].code == 40060
    assert (await run.wait_final()).content == "one"


async def test_too_long_content_is_rejected_with_50035(standin: DiscordStandin, place: Place, bot: TinyBot) -> None:
    with pytest.raises(discord.HTTPException) as raised:
        await text_channel(bot, place).send("x" * 2001)
    assert raised.value.status == 400 and raised.value.code == 50035
    assert "content" in str(raised.value)
    assert [(r.route, r.code) for r in standin.rejections] == [(f"/channels/{place.channel.id}/messages", 50035)]
    assert standin.messages == []


async def test_too_long_embed_field_is_rejected(standin: DiscordStandin, place: Place, bot: TinyBot) -> None:
    run = await standin.slash(place.guild.id, place.channel.id, place.learner.id, "overlong")
    rejection = await run.wait_rejected()
    assert rejection.code == 50035 and "embeds.0.fields.0.value" in rejection.reason
    await standin.wait_for(lambda: bot.errors)


async def test_invalid_command_sync_is_rejected(standin: DiscordStandin, place: Place, bot: TinyBot) -> None:
    bad = [
        {
            "name": "Ask",
            "description": "x",
            "type": 1,
            "options": [
                {"name": "a", "description": "a", "type": 3},
                {"name": "b", "description": "b", "type": 3, "required": True},
            ],
        }
    ]
    with pytest.raises(discord.HTTPException) as raised:
        await bot.http.bulk_upsert_guild_commands(standin.application_id, place.guild.id, payload=bad)
    assert raised.value.code == 50035
    reasons = standin.rejections[0].reason
    assert "invalid" in reasons and "Required options must be placed before" in reasons


async def test_bot_permission_denial_is_403_50013(standin: DiscordStandin, place: Place, bot: TinyBot) -> None:
    standin.deny_bot(place.channel.id)
    await standin.wait_for(
        lambda: not text_channel(bot, place).permissions_for(text_channel(bot, place).guild.me).send_messages
    )
    with pytest.raises(discord.Forbidden) as raised:
        await text_channel(bot, place).send("hello")
    assert raised.value.code == ErrorCode.MISSING_PERMISSIONS


async def test_deleted_channel_is_unknown(standin: DiscordStandin, place: Place, bot: TinyBot) -> None:
    channel = text_channel(bot, place)
    standin.delete_channel(place.channel.id)
    await standin.wait_for(lambda: bot.get_channel(place.channel.id) is None, what="CHANNEL_DELETE applied")
    with pytest.raises(discord.NotFound) as raised:
        await channel.send("hello")
    assert raised.value.code == ErrorCode.UNKNOWN_CHANNEL


async def test_unknown_route_is_recorded(standin: DiscordStandin, bot: TinyBot) -> None:
    with pytest.raises(discord.NotFound):
        await bot.http.request(discord.http.Route("GET", "/no/such/thing"))
    assert [(u.method, u.path) for u in standin.unknown_routes] == [("GET", "/no/such/thing")]


async def test_responses_are_plain_application_json(standin: DiscordStandin) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(standin.api_base_url + "/users/@me", headers={"Authorization": "Bot test-token"}) as r:
            assert r.headers["Content-Type"] == "application/json"
            assert (await r.json())["id"] == str(standin.bot_id)
        async with session.get(standin.api_base_url + "/users/@me", headers={"Authorization": "Bot nope"}) as r:
            assert r.status == 401


# -- messages and the Message Content intent ------------------------------------------------------


async def test_content_is_blank_without_the_intent(standin: DiscordStandin, place: Place, bot: TinyBot) -> None:
    await standin.user_message(place.channel.id, place.learner.id, "what is a graph?")
    await standin.user_message(place.channel.id, place.learner.id, "what is a tree?", mentions_bot=True)
    dm = standin.dm_channel(place.learner.id)
    await standin.user_message(dm.id, place.learner.id, "hello in private")
    await standin.wait_for(lambda: len(bot.seen) == 3)
    assert [m.content for m in bot.seen] == ["", f"<@{standin.bot_id}> what is a tree?", "hello in private"]
    assert isinstance(bot.seen[2].channel, discord.DMChannel)


async def test_content_is_delivered_with_the_intent(standin: DiscordStandin, place: Place) -> None:
    intents = discord.Intents.default()
    intents.message_content = True
    async with started(standin, place, intents) as bot:
        await standin.user_message(place.channel.id, place.learner.id, "what is a graph?")
        await standin.wait_for(lambda: bot.seen)
        assert bot.seen[0].content == "what is a graph?"
        assert standin.intents is not None and standin.intents & Intent.MESSAGE_CONTENT


async def test_reply_reference_and_pings(standin: DiscordStandin, place: Place, bot: TinyBot) -> None:
    asked = await standin.user_message(place.channel.id, place.learner.id, "help", mentions_bot=True)
    await standin.wait_for(lambda: bot.seen)
    safe = await bot.seen[0].reply(f"ok <@{place.admin.id}> @everyone", allowed_mentions=discord.AllowedMentions.none())
    loud = await text_channel(bot, place).send(f"hey <@{place.admin.id}>")
    safe_sent, loud_sent = standin.messages
    assert safe.reference is not None and safe_sent.reply_to == asked.id
    assert not standin.pings(safe_sent)
    assert standin.pings(loud_sent) and loud_sent.allowed_mentions is None
    assert loud.id == loud_sent.id


async def test_threads_and_dms(standin: DiscordStandin, place: Place, bot: TinyBot) -> None:
    channel = text_channel(bot, place)
    starter = await channel.send("discussion")
    thread = await starter.create_thread(name="graphs")
    assert thread.id == starter.id
    await thread.send("in the thread")
    loose = await channel.create_thread(name="loose", type=discord.ChannelType.public_thread)
    assert [t.name for t in standin.threads] == ["graphs", "loose"] and loose.parent_id == channel.id
    user = await bot.fetch_user(place.learner.id)
    await user.send("a reminder")
    sent = await standin.wait_for_message(lambda m: m.content == "a reminder")
    assert standin.world.channel(sent.channel_id).is_dm
    standin.assert_clean()


async def test_a_users_reply_and_thread_reach_the_bot_with_their_reference(
    standin: DiscordStandin, place: Place, bot: TinyBot
) -> None:
    said = await text_channel(bot, place).send("an answer")
    [posted] = standin.messages
    await standin.user_message(place.channel.id, place.learner.id, "and then?", reply_to=posted.id)
    await standin.user_message(place.channel.id, place.learner.id, "quietly?", reply_to=posted.id, ping_reply=False)
    thread = await standin.user_thread(posted, place.learner.id, "about the answer")
    await standin.user_message(thread.id, place.learner.id, "in the thread", mentions_bot=True)
    await standin.wait_for(lambda: len(bot.seen) == 3)
    pinged, quiet, threaded = bot.seen
    assert pinged.reference is not None and pinged.reference.message_id == said.id
    assert pinged.content == "and then?" and bot.user in pinged.mentions  # a pinging reply mentions the bot
    assert quiet.reference is not None and quiet.content == ""  # no ping, no Message Content intent: blank
    assert thread.id == said.id and thread.owner_id == place.learner.id
    assert isinstance(threaded.channel, discord.Thread) and threaded.channel.id == said.id
    with pytest.raises(ValueError, match="already has a thread"):
        await standin.user_thread(posted, place.learner.id, "again")
    standin.assert_clean()


async def test_dms_are_refused_when_closed_or_without_a_shared_server(
    standin: DiscordStandin, place: Place, bot: TinyBot
) -> None:
    user = await bot.fetch_user(place.learner.id)
    standin.close_dms(place.learner.id)
    with pytest.raises(discord.Forbidden) as closed:
        await user.send("a reminder")
    assert closed.value.status == 403 and closed.value.code == ErrorCode.CANNOT_DM_USER
    standin.open_dms(place.learner.id)
    await user.send("a reminder")
    assert [m.content for m in standin.dms_to(place.learner)] == ["a reminder"]
    stranger = standin.add_user("stranger")  # shares no server with the bot
    with pytest.raises(discord.Forbidden) as unknown:
        await (await bot.fetch_user(stranger.id)).send("hello?")
    assert unknown.value.code == ErrorCode.CANNOT_DM_USER and standin.dms_to(stranger) == []
    assert [r.reason for r in standin.rejections] == [
        "the user closed DMs",
        "a bot can only DM users it shares a server with",
    ]


async def test_an_ephemeral_message_is_clicked_only_by_its_member(
    standin: DiscordStandin, place: Place, bot: TinyBot
) -> None:
    run = await standin.slash(place.guild.id, place.channel.id, place.learner.id, "secret")
    shown = await run.wait_final()
    assert shown.ephemeral and shown.custom_ids() == ["secret-who", "secret-done"]
    with pytest.raises(PermissionError, match="ephemeral"):
        await standin.click(shown, "secret-who", place.admin.id)
    own = await standin.click(shown, "secret-who", place.learner.id)
    assert (await own.wait_final()).content == f"clicked by {place.learner.id}"
    forged = await standin.click(shown, "secret-who", place.admin.id, force=True)  # as a forged request would
    assert (await forged.wait_final()).content == f"clicked by {place.admin.id}"
    update = await standin.click(shown, "secret-done", place.learner.id)
    assert (await update.wait_response()).type == CallbackType.UPDATE_MESSAGE
    assert shown.content == "done" and shown.ephemeral and shown.components == []
    standin.assert_clean()
    with pytest.raises(discord.NotFound):  # not a channel message: only an interaction's token reaches it
        await text_channel(bot, place).fetch_message(shown.id)
    assert [(r.status, r.code) for r in standin.rejections] == [(404, ErrorCode.UNKNOWN_MESSAGE)]


async def test_files_within_the_count_and_size_limits_only(standin: DiscordStandin, place: Place) -> None:
    standin.attachment_size_limit = 1000
    async with started(standin, place) as bot:
        ten = await standin.slash(place.guild.id, place.channel.id, place.learner.id, "files", {"count": 10})
        assert len((await ten.wait_final()).attachments) == 10
        eleven = await standin.slash(place.guild.id, place.channel.id, place.learner.id, "files", {"count": 11})
        assert (await eleven.wait_rejected()).code == ErrorCode.INVALID_FORM_BODY
        big = await standin.slash(
            place.guild.id, place.channel.id, place.learner.id, "files", {"count": 1, "size": 1001}
        )
        assert (await big.wait_rejected()).code == ErrorCode.ENTITY_TOO_LARGE
        await standin.wait_for(lambda: len(bot.errors) == 2)
        assert [e.status for e in bot.errors] == [400, 413]


async def test_an_embed_picture_without_its_file_is_a_problem(
    standin: DiscordStandin, place: Place, bot: TinyBot
) -> None:
    run = await standin.slash(place.guild.id, place.channel.id, place.learner.id, "picture")
    await run.wait_final()
    assert standin.problems() == [
        f"message {run.original_id} shows attachment://card.png but has no such file (it has ['other.png'])"
    ]


async def test_rest_lookups(standin: DiscordStandin, place: Place, bot: TinyBot) -> None:
    guild = await bot.fetch_guild(place.guild.id)
    assert guild.name == "Roadmap"
    member = await guild.fetch_member(place.admin.id)
    assert discord.utils.get(member.roles, name="admins") is not None
    fetched = await bot.fetch_channel(place.channel.id)
    assert fetched.id == place.channel.id
    file_message = await text_channel(bot, place).send(file=discord.File(io.BytesIO(b"bytes!"), "a.bin"))
    assert await file_message.attachments[0].read() == b"bytes!"
    standin.assert_clean()


# -- faults ---------------------------------------------------------------------------------------


async def test_rate_limit_is_waited_out_and_retried(standin: DiscordStandin, place: Place, bot: TinyBot) -> None:
    rule = standin.fail_next(
        "POST",
        r"^/channels/\d+/messages$",
        429,
        {"message": "You are being rate limited.", "retry_after": 0.2, "global": False},
    )
    started_at = time.monotonic()
    await text_channel(bot, place).send("eventually")
    assert time.monotonic() - started_at >= 0.2
    assert rule.hits == 1 and [m.content for m in standin.messages] == ["eventually"]
    assert [r.status for r in standin.requests if r.path.endswith("/messages")] == [429, 200]
    standin.assert_clean()


async def test_drop_gateway_then_resume_replays_missed_events(
    standin: DiscordStandin, place: Place, bot: TinyBot
) -> None:
    await standin.drop_gateway()
    missed = await standin.user_message(place.channel.id, place.learner.id, "while you were away", mentions_bot=True)
    await standin.wait_resumed()
    await asyncio.wait_for(bot.resumed.wait(), 5)
    await standin.wait_for(lambda: bot.seen)
    assert bot.seen[0].id == missed.id
    resume = standin.gateway.resumes[0]
    assert resume.replayed >= 1 and resume.path == "/resume-gateway"
    assert standin.identify_count == 1
    run = await standin.slash(place.guild.id, place.channel.id, place.learner.id, "ping")
    assert (await run.wait_final()).content == "pong"


async def test_unresumable_drop_makes_the_bot_identify_again(
    standin: DiscordStandin, place: Place, bot: TinyBot
) -> None:
    await standin.drop_gateway(abrupt=True, resumable=False)
    await standin.wait_identified(2, timeout=10)
    await standin.wait_for(lambda: standin.connected)
    run = await standin.slash(place.guild.id, place.channel.id, place.learner.id, "ping")
    assert (await run.wait_final()).content == "pong"


class ShardedTinyBot(commands.AutoShardedBot):
    """An AutoShardedBot that asks the stand-in how many shards to run and records where each message came in."""

    def __init__(self) -> None:
        intents = discord.Intents.default()
        intents.message_content = True
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.05, chunk_guilds_at_startup=False)
        self.seen: list[tuple[int | None, int | None]] = []  # (guild id, shard id) of each message

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None

    async def on_message(self, message: discord.Message) -> None:
        guild = message.guild.id if message.guild else None
        self.seen.append((guild, message.guild.shard_id if message.guild else None))


async def test_shards_identify_with_the_recommended_count_and_get_their_guilds_and_dms_go_to_shard_0() -> None:
    async with DiscordStandin(shard_count=2) as standin:
        # A guild's shard is (guild_id >> 22) % shard_count.
        on_zero, on_one = standin.add_guild("zero", guild_id=6000 << 22), standin.add_guild("one", guild_id=6001 << 22)
        learner = standin.add_member(on_zero.id, "learner")
        standin.add_member(on_one.id, "learner", user_id=learner.id)
        channels = [standin.add_channel(g.id, "general") for g in (on_zero, on_one)]
        bot = ShardedTinyBot()
        async with running(bot, standin, ready_timeout=20):
            assert bot.shard_count == 2  # from GET /gateway/bot
            assert sorted(i.shard for i in standin.gateway.identifies) == [(0, 2), (1, 2)]
            assert {g.id: g.shard_id for g in bot.guilds} == {on_zero.id: 0, on_one.id: 1}
            for channel in channels:
                await standin.user_message(channel.id, learner.id, "hello")
            dm = standin.dm_channel(learner.id)
            await standin.user_message(dm.id, learner.id, "hello in private")
            await standin.wait_for(lambda: len(bot.seen) == 3, what="three messages")
            assert sorted(bot.seen, key=repr) == sorted([(on_zero.id, 0), (on_one.id, 1), (None, None)], key=repr)
            # Each message reached one session only: the guild's shard, and shard 0 for the DM.
            receivers = {
                m: [
                    s.shard
                    for s in standin.gateway.sessions.values()
                    if any(d.event == "MESSAGE_CREATE" and d.data["content"] == m for d in s.buffer)
                ]
                for m in ("hello in private",)
            }
            assert receivers == {"hello in private": [(0, 2)]}
        standin.assert_clean()
