"""The PPO policy: SB3's MLP actor-critic, with actions that cannot do anything masked out.

A move into an obstacle or off the field leaves the drone where it is (a "bump": a wasted step and a
penalty). The observation already says which neighbours are blocked (the first window plane), so the
policy sets those moves' logits to a large negative number before sampling: the drone never spends a
step, and PPO never spends gradient, on a move that cannot happen. Watering: a release with an empty
tank does nothing and a release off a needy plant spills, so releasing is masked unless the drone has
water and the observation says its cell still needs some (own-state features), and a drone with an
empty tank away from the base may only take the moves its compass shows (the shortest ways home).
This is action masking as in sb3-contrib's MaskablePPO, but the mask is read from the observation, so the
environment, the VecEnv and every caller of ``model.predict`` stay unchanged (sb3-contrib is not a
dependency).
"""
from __future__ import annotations

import functools
from typing import Any

import torch as th
from stable_baselines3.common.distributions import CategoricalDistribution, Distribution
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy
from torch.distributions import Categorical

from env.config import OBS_RADIUS, max_gain_radius
from env.core import COMPASS_FEATURES, N_CHANNELS, OBS_DIM, WINDOW
from env.scenarios import DOWN, HOVER, LEFT, RIGHT, UP, WATER

_CENTRE = OBS_RADIUS * WINDOW + OBS_RADIUS
# action -> index of its target cell in the blocked plane (the observation's first 7x7 values)
NEIGHBOUR_OF_MOVE = {UP: _CENTRE - WINDOW, DOWN: _CENTRE + WINDOW, LEFT: _CENTRE - 1, RIGHT: _CENTRE + 1}
MASKED_LOGIT = -1e8
# own-state features (env.core.SwarmSim.observe): tank / capacity, then water still needed on the cell
TANK_INDEX = WINDOW * WINDOW * N_CHANNELS + 3
AT_BASE_INDEX = WINDOW * WINDOW * N_CHANNELS + 9
NEED_HERE_INDEX = WINDOW * WINDOW * N_CHANNELS + 11
COMPASS_INDEX = OBS_DIM - COMPASS_FEATURES  # the compass's move bits, in the order UP, DOWN, LEFT, RIGHT
COVERED_PLANE = WINDOW * WINDOW  # the window's second plane: cells already sensed (env.core.N_CHANNELS)
_WATER_ONLY = th.nn.functional.one_hot(th.tensor(WATER), WATER + 1)  # the release's logit alone


@functools.lru_cache(maxsize=None)
def _gain_windows(radius: int) -> th.Tensor:
    """(4, (2r+1)^2) window indices of the sensor square around the cell each move (UP, DOWN, LEFT,
    RIGHT) leads to."""
    squares = []
    for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        squares.append([(OBS_RADIUS + dy + sy) * WINDOW + OBS_RADIUS + dx + sx
                        for sy in range(-radius, radius + 1) for sx in range(-radius, radius + 1)])
    return th.tensor(squares, dtype=th.long)


GAIN_WEIGHTS = ("cells", "hemmed")
"""How :func:`move_gains` counts a cell a move would newly sense: 1 each, or hemmed (1 + its eight
neighbours with nothing left to sense), as the sector sweep does (env.core.SwarmSim.move_gains)."""


def move_gains(obs: th.Tensor, radius: int, hemmed: bool = False) -> th.Tensor:
    """(batch, 4) float: for each move (UP, DOWN, LEFT, RIGHT), the cells neither blocked nor sensed
    yet within ``radius`` of the cell it leads to, read from the observation's window: what the move
    would newly sense (env.core.SwarmSim.move_gains on the simulator's maps, line of sight ignored).
    ``hemmed``: each such cell counts 1 + its eight neighbours that are blocked, sensed or off the
    window (for radius <= 1 those cells lie within 2 of the target, so their neighbours are in it)."""
    limit = max_gain_radius(hemmed)
    if not 0 <= radius <= limit:
        raise ValueError(f"radius={radius}: allowed 0..{limit} (the square must fit the window)")
    todo = (obs[:, :COVERED_PLANE] < 0.5) & (obs[:, COVERED_PLANE:2 * COVERED_PLANE] < 0.5)
    weight = todo.to(obs.dtype)
    if hemmed:
        done = th.nn.functional.pad(1 - weight.view(-1, WINDOW, WINDOW), (1, 1, 1, 1), value=1.0)
        around = sum(done[:, 1 + dy:1 + dy + WINDOW, 1 + dx:1 + dx + WINDOW]
                     for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx)
        weight = weight * (1 + around.reshape(-1, WINDOW * WINDOW))
    return weight[:, _gain_windows(radius).to(obs.device)].sum(dim=2)


def blocked_moves(obs: th.Tensor, n_actions: int) -> th.Tensor:
    """(batch, n_actions) bool: True where the action is a move into a blocked cell."""
    mask = th.zeros((obs.shape[0], n_actions), dtype=th.bool, device=obs.device)
    for action, index in NEIGHBOUR_OF_MOVE.items():
        mask[:, action] = obs[:, index] > 0.5
    return mask


def useless_releases(obs: th.Tensor) -> th.Tensor:
    """(batch,) bool: a release would do nothing (empty tank) or spill (no water needed here)."""
    return (obs[:, TANK_INDEX] <= 0) | (obs[:, NEED_HERE_INDEX] <= 0)


def detours_home(obs: th.Tensor, n_actions: int) -> th.Tensor:
    """(batch, n_actions) bool, watering: for a drone with an empty tank away from the base, every
    action but the compass's moves (which then lead home by a shortest way: env.core's home compass).

    Water comes only from the base, so such a drone can do nothing useful but fly home; left to
    learn it, the default policy spent 1-5 % of its drone-steps hovering or off the way
    (docs/policy.md). Rows whose compass shows no move (no way home) are left alone."""
    way = obs[:, COMPASS_INDEX:COMPASS_INDEX + 4] > 0.5
    homebound = (obs[:, TANK_INDEX] <= 0) & (obs[:, AT_BASE_INDEX] < 0.5) & way.any(dim=1)
    mask = th.zeros((obs.shape[0], n_actions), dtype=th.bool, device=obs.device)
    mask[:, [HOVER, WATER]] = homebound[:, None]
    mask[:, UP:RIGHT + 1] = homebound[:, None] & ~way
    return mask


def masked_actions(obs: th.Tensor, n_actions: int) -> th.Tensor:
    """(batch, n_actions) bool: the actions the policy never takes (blocked moves; watering: useless
    releases and an empty tank's detours on the way home)."""
    mask = blocked_moves(obs, n_actions)
    if n_actions > WATER:
        mask[:, WATER] = useless_releases(obs)
        mask |= detours_home(obs, n_actions)
    return mask


class MaskedMovesPolicy(ActorCriticPolicy):
    """``MlpPolicy`` whose masked actions (:func:`masked_actions`) have (practically) zero probability.

    ``acting_temperature``: the logits are divided by it when the policy acts outside training
    (``predict``: evaluation, the gate, missions); below 1 the swarm acts closer to its most likely
    actions. Training always samples at temperature 1 (PPO's ratios need the collecting
    distribution). It is a policy keyword, so a saved model keeps it; models saved before it act at 1.

    ``compass_prior``: added to the logits of the moves the compass shows (the observation's last
    features: the steps along a shortest way to the drone's work), before the temperature. The
    network's output starts near zero, so an untrained policy already follows its compass, and PPO
    learns where to leave it; without it the trained recon policy followed its compass worse than
    a plain compass follower does (docs/policy.md).

    ``gain_prior``: of the moves the compass shows, each gets this much more logit per cell it would
    newly sense (:func:`move_gains` with ``gain_radius``, the fields' sensor radius), as the sector
    sweep prefers the shown move that senses the most; ``gain_weight`` (GAIN_WEIGHTS) says how a cell
    counts. Models saved before it count plain cells.

    ``release_prior`` (watering): added to the release's logit where own feature 11 says water is the
    drone's to give on its cell (layout v8: the water its sortie plans there), as the compass prior
    is to the compass's moves: with both, the untrained policy flies the plan.

    (The name predates the release mask; saved models refer to the class by it.)"""

    def __init__(self, *args: Any, acting_temperature: float = 1.0, compass_prior: float = 0.0,
                 gain_prior: float = 0.0, gain_radius: int = 1, gain_weight: str = "cells",
                 release_prior: float = 0.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not isinstance(self.action_dist, CategoricalDistribution):  # _masked builds a Categorical
            raise TypeError(f"MaskedMovesPolicy needs a Discrete action space, not {self.action_space}")
        if not acting_temperature > 0:
            raise ValueError(f"acting_temperature={acting_temperature!r}: allowed: > 0")
        if not compass_prior >= 0:
            raise ValueError(f"compass_prior={compass_prior!r}: allowed: >= 0")
        if not gain_prior >= 0:
            raise ValueError(f"gain_prior={gain_prior!r}: allowed: >= 0")
        if not release_prior >= 0:
            raise ValueError(f"release_prior={release_prior!r}: allowed: >= 0")
        if gain_weight not in GAIN_WEIGHTS:
            raise ValueError(f"gain_weight={gain_weight!r}: allowed: {', '.join(GAIN_WEIGHTS)}")
        limit = max_gain_radius(gain_weight == "hemmed")
        if gain_prior and not 0 <= gain_radius <= limit:
            raise ValueError(f"gain_radius={gain_radius!r}: allowed: 0..{limit} "
                             f"with gain_weight={gain_weight}")
        self.acting_temperature = float(acting_temperature)
        self.compass_prior = float(compass_prior)
        self.gain_prior, self.gain_radius = float(gain_prior), int(gain_radius)
        self.gain_weight = gain_weight
        self.release_prior = float(release_prior)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return {**super()._get_constructor_parameters(), "acting_temperature": self.acting_temperature,
                "compass_prior": self.compass_prior, "gain_prior": self.gain_prior,
                "gain_radius": self.gain_radius, "gain_weight": self.gain_weight,
                "release_prior": self.release_prior}

    def _masked(self, latent_pi: th.Tensor, obs: th.Tensor, temperature: float = 1.0) -> Distribution:
        """The action distribution with the masked actions' logits set to MASKED_LOGIT.

        Built once from the masked logits (SB3's own path builds an unmasked one first) and without
        torch's argument validation: the logits come from our own network, and both costs are paid
        on every collection step and every minibatch."""
        logits = self.action_net(latent_pi)
        if self.compass_prior or self.gain_prior:
            shown = (obs[:, COMPASS_INDEX:COMPASS_INDEX + 4] > 0.5).to(logits.dtype)
            per_move = self.compass_prior * shown
            if self.gain_prior:
                gains = move_gains(obs, self.gain_radius, self.gain_weight == "hemmed")
                per_move = per_move + self.gain_prior * shown * gains
            bonus = th.zeros_like(logits)
            bonus[:, UP:RIGHT + 1] = per_move
            logits = logits + bonus
        if self.release_prior and logits.shape[-1] > WATER:
            mine = (obs[:, NEED_HERE_INDEX] > 0).to(logits.dtype)
            logits = logits + self.release_prior * mine[:, None] * _WATER_ONLY.to(logits)
        if temperature != 1.0:
            logits = logits / temperature
        masked = logits.masked_fill(masked_actions(obs, logits.shape[-1]), MASKED_LOGIT)
        self.action_dist.distribution = Categorical(logits=masked, validate_args=False)
        return self.action_dist

    def _latents(self, obs: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        features = self.extract_features(obs)
        if self.share_features_extractor:
            return self.mlp_extractor(features)
        pi_features, vf_features = features
        return self.mlp_extractor.forward_actor(pi_features), self.mlp_extractor.forward_critic(vf_features)

    def forward(self, obs: th.Tensor, deterministic: bool = False) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
        latent_pi, latent_vf = self._latents(obs)
        distribution = self._masked(latent_pi, obs)
        actions = distribution.get_actions(deterministic=deterministic)
        return actions.reshape((-1, *self.action_space.shape)), self.value_net(latent_vf), \
            distribution.log_prob(actions)

    def evaluate_actions(self, obs: Any, actions: th.Tensor) -> tuple[th.Tensor, th.Tensor, th.Tensor | None]:
        latent_pi, latent_vf = self._latents(obs)
        distribution = self._masked(latent_pi, obs)
        return self.value_net(latent_vf), distribution.log_prob(actions), distribution.entropy()

    def get_distribution(self, obs: Any) -> Distribution:
        # acting needs the actor only (as in SB3): no critic pass per step of an evaluation
        features = BasePolicy.extract_features(self, obs, self.pi_features_extractor)
        latent_pi = self.mlp_extractor.forward_actor(features)
        return self._masked(latent_pi, obs, self.acting_temperature)
