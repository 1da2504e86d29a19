"""What a trained model learned: attention patterns over many sessions, and its item embeddings.

- `profile`: `attention_profile` runs the model session-parallel over held-out sessions and
  keeps, for every prediction target, the attention vector over the prefix the model saw
  (its last max_len clicks), with the session's hidden truth beside it.
- `patterns`: the case study's three patterns (recency-dominant, anchor-item,
  category-coherent) as explicit rules, and the aggregates; pure functions of a profile.
- `faithfulness`: `measure_faithfulness` checks attention and leave-one-out occlusion against
  the cause the simulator recorded for each click, beside the last-click guess and chance.
- `embeddings`: PCA of the learned item vectors, cosine neighbours, and category purity@k
  against its chance level.
- `explanations`: one recommendation explained for any family: `map_layout` arranges the
  maps a model's `explain` names (occlusion, for any model, is `faithfulness.occlusion`).

Everything is re-exported here, so callers write `insights.attention_profile(...)`.
"""

from streamrec.explain.explanations import (
    MapLayout,
    explanation_names,
    has_attention,
    map_layout,
    summary_map,
)
from streamrec.explain.faithfulness import Faithfulness, measure_faithfulness, occlusion
from streamrec.insights.embeddings import (
    Purity,
    StructureGrade,
    category_purity_at_k,
    chance_purity,
    embedding_projection,
    item_embeddings,
    nearest_neighbours,
    pca_2d,
    pca_axes,
    project_items,
    purity_sentence,
    structure_grade,
    training_clicks,
)
from streamrec.insights.patterns import (
    ANCHOR,
    ANCHOR_MIDDLE_RATIO,
    ANCHOR_MIN_FIRST,
    ANCHOR_MIN_LAST,
    COHERENT,
    COHERENT_MIN_NORMALISED_ENTROPY,
    LENGTH_BUCKET_STARTS,
    MIN_PATTERN_LENGTH,
    MIXED,
    PATTERN_RULES,
    PATTERNS,
    RECENCY,
    RECENCY_MIN_LAST_TWO,
    SHORT,
    classify_patterns,
    compare_profiles,
    edge_shares,
    edge_weights,
    entropy,
    entropy_by_length,
    from_end,
    length_buckets,
    mean_by_position,
    normalised_entropy,
    pattern_counts,
    pattern_examples,
    pattern_table,
    profile_summary,
)
from streamrec.insights.profile import (
    AttentionProfile,
    attention_profile,
    check_comparable,
    held_out_targets,
    sample_targets,
)

__all__ = [
    "ANCHOR",
    "ANCHOR_MIDDLE_RATIO",
    "ANCHOR_MIN_FIRST",
    "ANCHOR_MIN_LAST",
    "COHERENT",
    "COHERENT_MIN_NORMALISED_ENTROPY",
    "LENGTH_BUCKET_STARTS",
    "MIN_PATTERN_LENGTH",
    "MIXED",
    "PATTERNS",
    "PATTERN_RULES",
    "RECENCY",
    "RECENCY_MIN_LAST_TWO",
    "SHORT",
    "AttentionProfile",
    "Faithfulness",
    "MapLayout",
    "Purity",
    "StructureGrade",
    "attention_profile",
    "category_purity_at_k",
    "chance_purity",
    "check_comparable",
    "classify_patterns",
    "compare_profiles",
    "edge_shares",
    "edge_weights",
    "embedding_projection",
    "entropy",
    "entropy_by_length",
    "explanation_names",
    "from_end",
    "has_attention",
    "held_out_targets",
    "item_embeddings",
    "length_buckets",
    "map_layout",
    "mean_by_position",
    "measure_faithfulness",
    "nearest_neighbours",
    "normalised_entropy",
    "occlusion",
    "pattern_counts",
    "pattern_examples",
    "pattern_table",
    "pca_2d",
    "pca_axes",
    "profile_summary",
    "project_items",
    "purity_sentence",
    "sample_targets",
    "structure_grade",
    "summary_map",
    "training_clicks",
]
