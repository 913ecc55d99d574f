"""The two scenarios: their action sets and reward constants.

Actions (both scenarios): 0 hover, 1 up (y-1), 2 down (y+1), 3 left (x-1), 4 right (x+1);
watering adds 5 = release one unit of water on the current cell.
"""

from __future__ import annotations

from dataclasses import dataclass

from env.config import ConfigError

SCENARIOS: tuple[str, ...] = ("recon", "watering")

HOVER, UP, DOWN, LEFT, RIGHT, WATER = range(6)
ACTION_NAMES = ("hover", "up", "down", "left", "right", "water")


@dataclass(frozen=True)
class Rewards:
    """Per-drone reward terms (each drone is credited for what it did itself)."""

    new_cell: float = 0.1
    """Recon: per free cell this drone sensed first."""
    new_plant: float = 0.5
    """Recon: per plant this drone discovered."""
    explore: float = 0.02
    """Watering: per free cell this drone sensed first (a small push to spread out and meet plants)."""
    delivered: float = 1.0
    """Watering: per water unit given to a plant that still needed it."""
    over_watering: float = -0.5
    """Watering: per unit released on a plant that no longer needs it."""
    spilled: float = -0.1
    """Watering: per unit released where there is no plant (also lost for the mission)."""
    wasted_trip: float = -0.5
    """Watering: back at the base after a sortie that delivered nothing."""
    empty_release: float = -0.05
    """Watering: the water action with an empty tank."""
    at_needy_plant: float = 0.3
    """Watering shaping, potential-based: +x when a drone with water gets onto a plant that still
    needs water, -x when it stops being so (moved away, plant satisfied, tank empty). It telescopes
    over an episode, so it guides exploration without changing which policy is best."""
    step: float = -0.01
    """Every step a drone is airborne or waiting (time pressure)."""
    bump: float = -0.05
    """Move into an obstacle or the field edge (the drone stays)."""
    collision: float = -0.5
    """Sharing a cell other than the base with another drone after the move."""
    depletion: float = -5.0
    """Battery ran out away from the base (the drone is grounded for the episode)."""
    completion: float = 1.0
    """Every active drone, when the field's task is complete."""


@dataclass(frozen=True)
class Scenario:
    """A scenario and every fact other modules need about it (one home: env.bench, env.demo,
    env.baselines, mission and training.evaluate read these instead of restating them)."""

    name: str
    n_actions: int
    heuristics: tuple[str, ...]
    """Heuristic baselines that solve this scenario; the first, the strongest over the suite, is the
    default ("heuristic": missions, demos, `swarmops bench scale`). Evaluation measures a policy's
    time against the best of them on each suite entry."""
    metric_keys: tuple[str, ...]
    """Task metrics (env.rollout keys) that describe how well the scenario was done (demo tables)."""
    rewards: Rewards = Rewards()
    score_reference: str | None = None
    """Watering: the heuristic whose net water per step on the same layout the gate's score is
    relative to (greedy: every stored score has that scale; the time ratio uses the best heuristic).
    None: the score is relative to the lower bound (recon)."""

    @property
    def heuristic(self) -> str:
        """The scenario's reference heuristic (what ``policy="heuristic"`` means)."""
        return self.heuristics[0]

    @property
    def baselines(self) -> tuple[str, ...]:
        """Every baseline this scenario accepts: random plus its heuristics."""
        return ("random", *self.heuristics)

    @property
    def watering(self) -> bool:
        """True for the watering scenario."""
        return self.name == "watering"


SPECS: dict[str, Scenario] = {
    "recon": Scenario(
        "recon",
        5,
        heuristics=("sectors", "lawnmower", "partition"),
        metric_keys=(
            "steps",
            "coverage",
            "steps_to_95",
            "lower_bound_steps",
            "bound_ratio",
            "plants_found",
            "plants_total",
        ),
    ),
    "watering": Scenario(
        "watering",
        6,
        heuristics=("routes", "greedy"),
        metric_keys=(
            "steps",
            "plants_watered",
            "plants_total",
            "water_need",
            "water_delivered",
            "water_wasted",
            "water_drawn",
            "wasted_trips",
        ),
        score_reference="greedy",
    ),
}


def get_scenario(name: str) -> Scenario:
    """The scenario called ``name``; an unknown name raises ConfigError listing the allowed ones."""
    if name not in SPECS:
        raise ConfigError(f"scenario={name!r} is unknown; allowed: {', '.join(SCENARIOS)}")
    return SPECS[name]
