"""A local stand-in for Discord's gateway and REST API that the real discord.py client can use.

Typical use::

    async with DiscordStandin() as standin:
        guild = standin.add_guild("Roadmap")
        channel = standin.add_channel(guild.id, "general")
        learner = standin.add_member(guild.id, "learner")
        async with running(bot, standin):
            await bot.tree.sync(guild=discord.Object(guild.id))
            run = await standin.slash(guild.id, channel.id, learner.id, "ask", {"question": "?"})
            answer = await run.wait_final()
        standin.assert_clean()

``harness`` (imports discord.py) is not imported here so the stand-in loads without it.
"""

from .constants import CallbackType, ChannelType, ErrorCode, Intent, MessageFlag, Perm
from .records import Callback, FaultRule, InteractionRecord, Rejection, RequestRecord, UnknownRoute, pings
from .server import DiscordStandin
from .state import Attachment, Channel, Guild, Member, Message, Role, User

__all__ = [
    "Attachment",
    "Callback",
    "CallbackType",
    "Channel",
    "ChannelType",
    "DiscordStandin",
    "ErrorCode",
    "FaultRule",
    "Guild",
    "Intent",
    "InteractionRecord",
    "Member",
    "Message",
    "MessageFlag",
    "Perm",
    "Rejection",
    "RequestRecord",
    "Role",
    "UnknownRoute",
    "User",
    "pings",
]
