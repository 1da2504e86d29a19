"""Column and field names shared by data frames, CSV exports and the dashboard."""

SESSION_ID = "session_id"
POSITION = "position"
ITEM_ID = "item_id"
CATEGORY = "category"

CLICK_COLUMNS = (SESSION_ID, POSITION, ITEM_ID, CATEGORY)
