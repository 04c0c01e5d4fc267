"""Rollout engines (sampling) and scoring passes (log-probs under the policy or a teacher)."""
