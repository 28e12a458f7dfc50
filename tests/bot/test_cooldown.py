"""The question cooldown: a member over the limit waits; other members are unaffected."""

from bot.cooldown import Cooldown


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_thirty_questions_a_minute_meet_the_cooldown_while_others_are_served() -> None:
    clock = Clock()
    cooldown = Cooldown(rate=4, per=60, clock=clock)
    allowed = 0
    for _ in range(30):
        if cooldown.hit("spammer") == 0.0:
            allowed += 1
        assert cooldown.hit(f"member-{_}") == 0.0
        clock.now += 2
    assert allowed == 4


def test_wait_time_counts_down_and_the_window_slides() -> None:
    clock = Clock()
    cooldown = Cooldown(rate=2, per=10, clock=clock)
    assert cooldown.hit("a") == 0.0
    clock.now += 3
    assert cooldown.hit("a") == 0.0
    assert cooldown.hit("a") == 7.0
    clock.now += 7
    assert cooldown.hit("a") == 0.0
