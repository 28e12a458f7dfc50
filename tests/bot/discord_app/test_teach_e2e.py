"""/admin teach and /admin untaught end to end: a declined question answered with the taught entry at once, in its own
server only, through a reindex and a restart, declined again once untaught; admins only; bad input named plainly."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answering import Answerer
from indexer.encoders import Encoder
from indexer.search import SearchIndex
from knowledge.loader import KnowledgeBase
from standin import DiscordStandin, InteractionRecord
from standin.state import Member
from tests.bot.discord_app.conftest import NOTE, NOTE_TITLE, BotFactory, World

pytestmark = [pytest.mark.model]

DECLINED = "is there a study group on fridays"
PARAPHRASE = "is there a friday study group"
ENTRY, TITLE = "real-world-projects", "Step 4: Work on Real-World Projects"
NOT_KNOWN = "I don't know that one"


@pytest.fixture
def own_answerer(shipped_kb: KnowledgeBase, real_encoder: Encoder, real_data_dir: Path) -> Answerer:
    """An answerer of its own: what a test teaches must not reach the answerer other tests share."""
    return Answerer(shipped_kb, SearchIndex.load(real_data_dir / "index"), real_encoder)


class Askers:
    """Fresh members to ask with, so the per-member question cooldown never refuses one."""

    def __init__(self, standin: DiscordStandin, guild_id: int) -> None:
        self.standin, self.guild_id, self.count = standin, guild_id, 0

    def next(self) -> Member:
        self.count += 1
        return self.standin.add_member(self.guild_id, f"learner-{self.guild_id}-{self.count}")


async def title_of_answer(standin: DiscordStandin, guild_id: int, channel_id: int, member: Member, q: str) -> str:
    run = await standin.slash(guild_id, channel_id, member.id, "ask", {"question": q})
    return str((await run.wait_final(timeout=30)).embeds[0]["title"])


async def admin(standin: DiscordStandin, world: World, subcommand: str, **options: str) -> InteractionRecord:
    run = await standin.slash(world.guild.id, world.channel.id, world.admin.id, "admin", options or None, subcommand)
    await run.wait_final(timeout=30)
    assert run.ephemeral
    return run


async def test_a_declined_question_is_answered_with_the_taught_entry_here_only_until_untaught(
    standin: DiscordStandin, world: World, start_bot: BotFactory, own_answerer: Answerer, tmp_path: Path
) -> None:
    g, c = world.guild.id, world.channel.id
    elsewhere = standin.add_channel(world.other_guild.id, "general").id
    here, there = Askers(standin, g), Askers(standin, world.other_guild.id)
    async with start_bot(answerer=own_answerer) as bot:
        assert await title_of_answer(standin, g, c, here.next(), DECLINED) == NOT_KNOWN
        assert await title_of_answer(standin, world.other_guild.id, elsewhere, there.next(), DECLINED) == NOT_KNOWN

        # The declined question is in /admin feedback and offered by the teach autocomplete; so is the entry.
        listing = (await admin(standin, world, "feedback")).final
        assert listing is not None and "Declined: no answer given · 1" in listing.text() and DECLINED in listing.text()
        offered = await standin.autocomplete(g, c, world.admin.id, "admin", "question", "study", subcommand="teach")
        await offered.wait_response()
        assert [ch["value"] for ch in offered.choices or []] == [DECLINED]
        entries = await standin.autocomplete(
            g, c, world.admin.id, "admin", "entry", "real-world projects", subcommand="teach"
        )
        await entries.wait_response()
        assert (entries.choices or [])[0]["value"] == ENTRY

        taught = await admin(standin, world, "teach", question=DECLINED, entry=ENTRY)
        assert taught.final is not None and "✅ Taught" in taught.final.content and TITLE in taught.final.content

        # At once, for anyone here, the question and a close paraphrase; not in the other server, not in DMs.
        assert await title_of_answer(standin, g, c, here.next(), DECLINED) == TITLE
        assert await title_of_answer(standin, g, c, here.next(), PARAPHRASE) == TITLE
        assert await title_of_answer(standin, world.other_guild.id, elsewhere, there.next(), DECLINED) == NOT_KNOWN
        asked_dm = await standin.user_message(standin.dm_channel(world.bob).id, world.bob.id, DECLINED)
        dm = await standin.wait_for_message(lambda m: m.reply_to == asked_dm.id, timeout=30)
        assert dm.embeds[0]["title"] == NOT_KNOWN

        assert ENTRY in (tmp_path / "taught.yaml").read_text(encoding="utf-8")

    # A new bot over the same data directory (a restart): still taught here, still not there.
    restarted_answerer = Answerer(own_answerer.kb, own_answerer.index, own_answerer.encoder)
    async with start_bot(answerer=restarted_answerer) as bot:
        assert await title_of_answer(standin, g, c, here.next(), DECLINED) == TITLE
        assert await title_of_answer(standin, world.other_guild.id, elsewhere, there.next(), DECLINED) == NOT_KNOWN

        listed = (await admin(standin, world, "untaught")).final
        assert listed is not None and f"1. “{DECLINED}” → {TITLE}" in listed.text()
        choices = await standin.autocomplete(g, c, world.admin.id, "admin", "question", "study", subcommand="untaught")
        await choices.wait_response()
        (choice,) = choices.choices or []
        removed = await admin(standin, world, "untaught", question=choice["value"])
        assert removed.final is not None and "Removed" in removed.final.content

        assert await title_of_answer(standin, g, c, here.next(), DECLINED) == NOT_KNOWN
        assert bot.tutor.teacher is not None and bot.tutor.teacher.read() == []
    assert not standin.rejections and not standin.internal_errors


async def test_a_reindex_keeps_what_was_taught(
    standin: DiscordStandin, world: World, start_bot: BotFactory, fake_answerer: Answerer
) -> None:
    """With the word-hashing encoder, so that the reindex embeds in seconds: the same question asked again meets
    the taught one at cosine 1 whatever the encoder."""
    g, c = world.guild.id, world.channel.id
    question = "who painted the mona lisa"
    config = {"model": {"backend": "sentence-transformers"}}  # no ONNX export of the real model in the rebuild
    async with start_bot(answerer=fake_answerer, config=config) as bot:
        await admin(standin, world, "teach", question=question, entry="docker")
        assert await title_of_answer(standin, g, c, world.alice, question) == "Docker"
        index_before = bot.tutor.answerer.index
        reindex = await admin(standin, world, "reindex")
        assert reindex.final is not None and "Rebuilt the index" in reindex.final.content
        assert bot.tutor.answerer.index is not index_before
        assert await title_of_answer(standin, g, c, world.bob, question) == "Docker"
    assert not standin.rejections


async def test_a_reindex_serves_what_was_taught_against_the_new_knowledge(
    standin: DiscordStandin, world: World, start_bot: BotFactory, fake_answerer: Answerer, tmp_path: Path
) -> None:
    """The taught file is checked against the knowledge each reindex brings: a question taught for a note that was
    removed is named as a problem, and served again once a reindex brings the note back."""
    g, c = world.guild.id, world.channel.id
    question = "who painted the mona lisa"
    notes = tmp_path / "notes"
    notes.mkdir()
    note = notes / "gpu-booking.md"
    note.write_text(NOTE, encoding="utf-8")
    config = {"model": {"backend": "sentence-transformers"}, "knowledge": {"dirs": [str(notes)]}}
    async with start_bot(answerer=fake_answerer, config=config) as bot:
        await admin(standin, world, "reindex")
        taught = await admin(standin, world, "teach", question=question, entry=NOTE_TITLE)
        assert taught.final is not None and "✅ Taught" in taught.final.content
        assert await title_of_answer(standin, g, c, world.alice, question) == NOTE_TITLE
        teacher = bot.tutor.teacher
        assert teacher is not None and teacher.problem is None

        note.unlink()
        await admin(standin, world, "reindex")
        assert teacher.problem is not None and "note-gpu-booking" in str(teacher.problem)
        assert await title_of_answer(standin, g, c, world.bob, question) != NOTE_TITLE

        note.write_text(NOTE, encoding="utf-8")
        await admin(standin, world, "reindex")
        assert teacher.problem is None
        assert await title_of_answer(standin, g, c, standin.add_member(g, "carol"), question) == NOTE_TITLE
    assert not standin.rejections


async def test_plain_members_cannot_teach_untaught_or_see_what_to_teach(
    standin: DiscordStandin, world: World, start_bot: BotFactory, own_answerer: Answerer, tmp_path: Path
) -> None:
    g, c, alice = world.guild.id, world.channel.id, world.alice.id
    async with start_bot(answerer=own_answerer):
        await title_of_answer(standin, g, c, world.bob, DECLINED)
        for subcommand, options in (
            ("teach", {"question": DECLINED, "entry": ENTRY}),
            ("untaught", {"question": "1"}),
            ("feedback", {}),
        ):
            forced = await standin.slash(g, c, alice, "admin", options or None, subcommand, force=True)
            reply = await forced.wait_final()
            assert forced.ephemeral and "Only server admins" in reply.content, subcommand
            assert DECLINED not in reply.text()
        # Autocomplete does not show a plain member the server's questions either.
        with pytest.raises(PermissionError):  # Discord does not offer /admin to them
            await standin.autocomplete(g, c, alice, "admin", "question", "", subcommand="teach")
        peek = await standin.autocomplete(g, c, alice, "admin", "question", "", subcommand="teach", force=True)
        await peek.wait_response()
        assert peek.choices == []
        assert not (tmp_path / "taught.yaml").exists()
        assert await title_of_answer(standin, g, c, world.bob, DECLINED) == NOT_KNOWN
    assert not standin.rejections


async def test_bad_input_is_named_plainly_and_nothing_taught_is_lost(
    standin: DiscordStandin, world: World, start_bot: BotFactory, own_answerer: Answerer, tmp_path: Path
) -> None:
    taught_file = tmp_path / "taught.yaml"
    async with start_bot(answerer=own_answerer):
        await admin(standin, world, "teach", question=DECLINED, entry=ENTRY)
        kept = taught_file.read_bytes()

        unknown = await admin(standin, world, "teach", question="is colab free", entry="sagemakr")
        assert unknown.final is not None and "No entry has the id or title “sagemakr”" in unknown.final.content
        assert "aws-sagemaker (AWS SageMaker)" in unknown.final.content  # what was probably meant
        empty = await admin(standin, world, "teach", question="  🤔  ", entry=ENTRY)
        assert empty.final is not None and "The question is empty" in empty.final.content
        missing = await admin(standin, world, "untaught", question="7")
        assert missing.final is not None and "No taught question here" in missing.final.content
        assert taught_file.read_bytes() == kept

        broken = kept.decode().replace(f"answer: {ENTRY}", "answer: no-such-entry")
        taught_file.write_text(broken, encoding="utf-8")
        for subcommand, options in (
            ("teach", {"question": "is colab free", "entry": "cloud-platforms"}),
            ("untaught", {"question": "1"}),
        ):
            refused = await admin(standin, world, subcommand, **options)
            assert refused.final is not None
            message = refused.final.content
            assert "I changed nothing" in message and str(taught_file) in message, subcommand
            assert "taught[0].answer" in message and "unknown entry id 'no-such-entry'" in message
            assert taught_file.read_text(encoding="utf-8") == broken
    assert not standin.rejections
