"""Ansible's linear strategy run over Mitogen (ansible.cfg: strategy = mitogen_linear).

Mitogen keeps one Python interpreter per host (and per become user) alive for the whole play instead of
starting one per task over SSH and sudo: a deploy that changes nothing takes ~45 s instead of ~110 s on
a 2-core runner. The plugin ships in the `mitogen` package (pyproject.toml); this file only puts it on
the strategy path of this checkout, whichever venv runs the playbook. `ANSIBLE_STRATEGY=linear` deploys
without it.
"""
import ansible.plugins.strategy.linear
import ansible_mitogen.strategy


class StrategyModule(ansible_mitogen.strategy.StrategyMixin, ansible.plugins.strategy.linear.StrategyModule):
    """ansible.builtin.linear with Mitogen's connection multiplexer."""
