"""The case study's generator as printed there, kept verbatim (bar formatting) so the
benchmark can time it against the engines. Not used by the package."""
import numpy as np


def generate_realistic_sessions(n_users=20000, n_items=5000, n_categories=25, seed=42):
    rng = np.random.RandomState(seed)
    category_sizes = rng.dirichlet(np.ones(n_categories) * 2.0) * n_items
    category_sizes = np.round(category_sizes).astype(int)
    category_sizes[-1] = n_items - category_sizes[:-1].sum()
    item_to_category = {}
    category_items = {}
    idx = 0
    for cat in range(n_categories):
        items = list(range(idx, idx + category_sizes[cat]))
        category_items[cat] = items
        for item in items:
            item_to_category[item] = cat
        idx += category_sizes[cat]
    item_popularity = np.zeros(n_items)
    for cat, items in category_items.items():
        n_cat = len(items)
        if n_cat > 0:
            ranks = np.arange(1, n_cat + 1, dtype=float)
            probs = 1.0 / ranks ** 0.8
            probs /= probs.sum()
            for j, item in enumerate(items):
                item_popularity[item] = probs[j]
    sessions = []
    for user in range(n_users):
        behavior = rng.choice(["explorer", "deep_dive", "comparison"], p=[0.3, 0.5, 0.2])
        session_len = rng.randint(5, 35)
        n_preferred = rng.randint(2, 6)
        preferred_cats = rng.choice(n_categories, size=n_preferred, replace=False)
        session = []
        current_cat = rng.choice(preferred_cats)
        for step in range(session_len):
            cat_items = category_items[current_cat]
            if len(cat_items) == 0:
                continue
            cat_probs = item_popularity[cat_items]
            cat_probs = cat_probs / cat_probs.sum()
            item = rng.choice(cat_items, p=cat_probs)
            session.append(item)
            if behavior == "deep_dive":
                if rng.random() < 0.15:
                    current_cat = rng.choice(preferred_cats)
            elif behavior == "explorer":
                if rng.random() < 0.40:
                    current_cat = rng.choice(n_categories)
            else:
                if rng.random() < 0.50:
                    current_cat = rng.choice(preferred_cats)
        if len(session) >= 3:
            sessions.append(session)
    return sessions, item_to_category
