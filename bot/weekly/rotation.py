"""Which weekly prompt comes next: a seeded shuffle per cycle, no repeat until every prompt has run."""

from __future__ import annotations

import random
from collections.abc import Sequence

__all__ = ["choose_prompt"]


def choose_prompt(prompts: Sequence[str], used: Sequence[str], rng_seed: int | str) -> str:
    """The next prompt id for a server.

    `used` is the server's history, oldest first. Ids no longer in `prompts` are ignored, and so
    is a prompt repeated within a cycle (e.g. an admin posted it by hand), so every prompt still
    gets its turn. Each cycle follows its own shuffle of the ids, seeded by `rng_seed` (the guild
    id, say) and the cycle's number, so the answer depends only on the arguments. A new cycle never
    opens with the prompt that closed the last one.
    """
    pool = sorted(set(prompts))
    if not pool:
        raise ValueError("there are no prompts to choose from")
    members = set(pool)
    cycle = 0
    seen: set[str] = set()
    for prompt_id in used:
        if prompt_id in members:
            seen.add(prompt_id)
            if len(seen) == len(pool):
                cycle += 1
                seen = set()
    order = pool.copy()
    random.Random(f"{rng_seed}:{cycle}").shuffle(order)
    candidates = [prompt_id for prompt_id in order if prompt_id not in seen]
    if not seen and len(candidates) > 1 and used and candidates[0] == used[-1]:
        return candidates[1]
    return candidates[0]
