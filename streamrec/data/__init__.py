"""Session data: the one session-data type, splits and batches, imported data sets, click-log import."""
