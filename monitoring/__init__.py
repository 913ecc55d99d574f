"""SwarmOps monitoring: Prometheus rules (rules/), Prometheus/Alertmanager/blackbox templates rendered by
the Ansible role infra/ansible/roles/monitoring (templates/), Grafana dashboards as code (grafana.py ->
dashboards/*.json, grafana/provisioning/) and the static training dashboard (dashboard_render.py)."""
