"""Evaluation shared by `creditzoo eval`, validation during `fit`, and the leaderboard.

``heldout`` (a policy on fixed held-out splits: one path for `fit` and `eval`), ``evaluate`` (k
samples per problem, verified), ``metrics`` (avg@k, unbiased pass@k, maj@k) and ``run`` (the
`creditzoo eval` command: load a model or a run's policy, evaluate, record the settings). What is
evaluated is a task (``creditzoo.tasks``).
"""
