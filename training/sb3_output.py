"""The SB3 logger output format that feeds every PPO update's values to MLflow, the ledger and the
Pushgateway (imports stable-baselines3, hence its own module)."""

from __future__ import annotations

from typing import Any

from stable_baselines3.common.logger import KVWriter

from training.tracking import PushgatewayReporter

# SB3 logger keys -> short metric names kept in MLflow, the ledger and the Pushgateway.
_KEY_MAP = {
    "rollout/ep_rew_mean": "episode_reward",
    "rollout/coverage": "coverage",
    "train/loss": "loss",
    "train/policy_gradient_loss": "policy_gradient_loss",
    "train/value_loss": "value_loss",
    "train/entropy_loss": "entropy_loss",
    "train/approx_kl": "approx_kl",
    "train/clip_fraction": "clip_fraction",
    "train/explained_variance": "explained_variance",
    "time/agent_steps_per_second": "agent_steps_per_second",
    "time/total_timesteps": "timesteps_total",
}


class TrackingOutputFormat(KVWriter):
    """SB3 logger output: every PPO update's values go to MLflow, the ledger and the Pushgateway."""

    def __init__(
        self,
        ledger: Any,
        run_id: str,
        pushgateway: PushgatewayReporter | None = None,
        mlflow_enabled: bool = True,
        mlflow_buffer: Any = None,
    ) -> None:
        self.ledger = ledger
        self.run_id = run_id
        self.pushgateway = pushgateway
        self.mlflow_enabled = mlflow_enabled
        # training.mlflow_buffer.MlflowMetricBuffer: MLflow writes that never block training and survive
        # an outage; without one, metrics go to the active MLflow run directly.
        self.mlflow_buffer = mlflow_buffer

    def write(self, key_values: dict[str, Any], key_excluded: dict[str, Any], step: int = 0) -> None:
        """Called by SB3's Logger.dump() once per update."""
        values: dict[str, float] = {}
        for key, value in key_values.items():
            excluded = key_excluded.get(key) or ()
            if "mlflow" in excluded or not isinstance(value, (int, float)) or isinstance(value, bool):
                continue
            values[_KEY_MAP.get(key, key.replace("/", "_"))] = float(value)
        if not values:
            return
        if self.mlflow_buffer is not None:
            self.mlflow_buffer.log(values, int(step))
        elif self.mlflow_enabled:
            import mlflow

            mlflow.log_metrics(values, step=int(step))
        if self.ledger is not None:
            self.ledger.add_metrics(self.run_id, int(step), values)
        if self.pushgateway is not None:
            self.pushgateway.push(values)

    def close(self) -> None:
        """Nothing to release: the run owner closes MLflow and the ledger."""
