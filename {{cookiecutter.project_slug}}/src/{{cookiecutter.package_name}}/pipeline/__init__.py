"""The DVC pipeline: one module per stage (validate, preprocess, train, evaluate, sanity), and
``shared``, the ML code they share."""
