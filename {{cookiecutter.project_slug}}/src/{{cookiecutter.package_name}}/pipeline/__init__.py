"""The DVC pipeline: one module per stage (preprocess, train, evaluate, sanity) and the ML code they share."""
