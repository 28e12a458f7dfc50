"""Abuse and concurrency: a member flooding questions, the same /done fifty times at once."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

from standin import DiscordStandin, InteractionRecord
from tests.bot.discord_app.conftest import World
from tests.reliability.conftest import BotFactory, messages_of


async def test_thirty_questions_a_minute_from_one_member_meet_the_cooldown_while_others_are_served(
    standin: DiscordStandin, world: World, start_bot: BotFactory
) -> None:
    g, c = world.guild.id, world.channel.id
    others = [standin.add_member(g, f"learner{i}") for i in range(5)]
    questions = ["what is lasso", "adam optimizer", "what is roc auc", "explain lstm"]
    async with start_bot():  # the default cooldown: 4 questions a minute per member
        flood: list[InteractionRecord] = []
        texts = []
        served: list[InteractionRecord] = []
        for i in range(30):
            if i % 5 == 4:  # the same member asking by mention shares the cooldown
                texts.append(await standin.user_message(c, world.alice.id, questions[i % 4], mentions_bot=True))
            else:
                flood.append(await standin.slash(g, c, world.alice.id, "ask", {"question": questions[i % 4]}))
            if i % 10 == 0:  # meanwhile, everyone else asks within their own allowance
                for member in others:
                    served.append(await standin.slash(g, c, member.id, "ask", {"question": questions[i % 4]}))
            await asyncio.sleep(0.05)

        await asyncio.gather(*(run.wait_final(timeout=30) for run in [*flood, *served]))
        replies = [await standin.wait_for_message(lambda m, q=q: m.reply_to == q.id, timeout=30) for q in texts]

        answered = [r for r in flood if r.final is not None and r.final.embeds and not r.ephemeral]
        answered += [r for r in replies if r.embeds]
        refused = [r for r in flood if r.ephemeral and r.final is not None and "Slow down" in r.final.content]
        refused += [r for r in replies if "Slow down" in r.content]
        assert len(answered) == 4 and len(refused) == 26
        assert all(run.ack_latency is not None and run.ack_latency < 3.0 for run in flood)
        assert all(run.final is not None and run.final.embeds and not run.ephemeral for run in served)
        assert len(served) == 15
        # In the channel: the 4 answers, the others' 15, and a short reply to each refused mention.
        public = [m for m in standin.messages if m.channel_id == c and not m.ephemeral]
        assert len(public) == 4 + 15 + sum("Slow down" in r.content for r in replies)
        assert not any(standin.pings(m) for m in public)
        assert not standin.rejections


async def test_fifty_simultaneous_done_from_one_member_leave_exactly_one_record(
    standin: DiscordStandin, world: World, start_bot: BotFactory, tmp_path: Path
) -> None:
    g, c, bob = world.guild.id, world.channel.id, world.bob.id
    async with start_bot():
        ask = await standin.slash(g, c, world.alice.id, "ask", {"question": "what is relu"})
        answer = await ask.wait_final(timeout=30)
        button = "tutor:done:activation-functions"
        # Half typed as /done, half as clicks on the answer's button, all at once.
        runs = await asyncio.gather(
            *(standin.slash(g, c, bob, "done", {"topic": "activation-functions"}) for _ in range(25)),
            *(standin.click(answer, button, bob) for _ in range(25)),
        )
        finals = await asyncio.gather(*(run.wait_final(timeout=30) for run in runs))
        marked = [f for f in finals if f.content.startswith("Marked **Activation Functions** as done")]
        already = [f for f in finals if f.content == "**Activation Functions** was already done."]
        assert len(marked) == 1 and len(already) == 49
        assert all(run.ephemeral and len(messages_of(standin, run)) == 1 for run in runs)
        assert not standin.rejections

    with contextlib.closing(sqlite3.connect(tmp_path / "tutor.sqlite3")) as db:
        rows = db.execute("SELECT topic_id FROM progress WHERE guild_id = ? AND user_id = ?", (g, bob)).fetchall()
        days = db.execute("SELECT COUNT(*) FROM activity_days WHERE user_id = ?", (bob,)).fetchone()
    assert rows == [("activation-functions",)] and days == (1,)
