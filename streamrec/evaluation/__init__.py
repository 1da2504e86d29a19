"""Evaluation: ranking metrics, the baselines and kNN, the leaderboard and the one-sentence verdict."""
