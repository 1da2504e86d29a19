"""Training: the loop as a stream of typed events, objectives, stopping, the time estimate, jobs, run folders."""
