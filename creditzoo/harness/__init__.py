"""Benchmark evaluation shared by `creditzoo eval`, validation during `fit`, and the leaderboard."""
