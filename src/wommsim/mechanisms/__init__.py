"""The model's rules, one module per mechanism, each a set of vectorised functions.

Every function takes the consumer arrays, its parameters and its own random stream, and
updates the arrays in place; none loops over consumers in Python. Each module ends with its
:class:`~wommsim.mechanisms.base.Mechanism` declaration, and :data:`SCHEDULE` lists them in
the order :meth:`wommsim.model.WommModel.step` runs them (see ``docs/DEVELOPING.md``).
"""

from __future__ import annotations

from collections.abc import Sequence

from wommsim.mechanisms import (
    advertising,
    category,
    content,
    decay,
    decision,
    dialogue,
    followers,
    incentives,
    purchase,
    reviews,
    rivalry,
    wom,
)
from wommsim.mechanisms.base import Influence, Mechanism, Metric, Stage

__all__ = ["INFLUENCES", "INFLUENCE_LABELS", "SCHEDULE", "Influence", "Mechanism", "Metric",
           "Stage", "influences_of", "schedule_of"]


def schedule_of(mechanisms: Sequence[Mechanism]) -> tuple[Mechanism, ...]:
    """``mechanisms`` in the order a step runs them: by stage, in the given order within a
    stage. Refuses two mechanisms of one name and a lever that is not in the strategy."""
    from wommsim.config import LEVERS

    names = [m.name for m in mechanisms]
    doubled = sorted({name for name in names if names.count(name) > 1})
    if doubled:
        raise ValueError(f"mechanisms declared twice: {', '.join(doubled)}")
    for m in mechanisms:
        if m.lever and m.name not in LEVERS:
            raise ValueError(f"lever {m.name!r} has no budget share in StrategyConfig "
                             f"(levers: {', '.join(LEVERS)})")
    return tuple(sorted(mechanisms, key=lambda m: m.stage))


def influences_of(schedule: Sequence[Mechanism]) -> tuple[Influence, ...]:
    """The influences the ``schedule`` declares, by code; codes must run 0, 1, ..."""
    found = sorted((m.influence for m in schedule if m.influence), key=lambda i: i.code)
    if [i.code for i in found] != list(range(len(found))):
        raise ValueError("influence codes must run 0, 1, ... without gaps or repeats: "
                         + ", ".join(f"{i.name}={i.code}" for i in found))
    return tuple(found)


#: The model's mechanisms in step order.
SCHEDULE: tuple[Mechanism, ...] = schedule_of([
    followers.MECHANISM, advertising.MECHANISM, dialogue.MECHANISM, content.MECHANISM,
    reviews.MECHANISM, incentives.MECHANISM, wom.MECHANISM, rivalry.MECHANISM,
    decision.MECHANISM, purchase.MECHANISM, category.MECHANISM, decay.MECHANISM,
])
#: What a purchase can be credited to, in column order (``new_adopters_<name>``).
INFLUENCES: tuple[str, ...] = tuple(i.name for i in influences_of(SCHEDULE))
#: Influence name -> label for people (figures, the UI).
INFLUENCE_LABELS: dict[str, str] = {i.name: i.label for i in influences_of(SCHEDULE)}
