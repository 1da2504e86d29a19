"""Explaining one prediction: the maps a model names, occlusion, and faithfulness against the true cause."""
