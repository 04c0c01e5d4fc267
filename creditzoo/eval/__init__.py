"""Benchmark evaluation shared by `creditzoo eval`, validation during `fit`, and the leaderboard.

``benchmarks`` (the registry of benchmarks and their loaders), ``evaluate`` (k samples per
problem, verified), ``metrics`` (avg@k, unbiased pass@k, maj@k) and ``run`` (the `creditzoo eval`
command: load a model or a run's policy, evaluate, record the settings).
"""
