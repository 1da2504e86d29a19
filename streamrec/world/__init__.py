"""The simulated world: the click simulator, its order mechanisms, named scenarios, the Bayes-optimal oracle."""
