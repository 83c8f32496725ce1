DEFAULT_SEED = 1234
OPTIMIZERS = ("sgd", "adam", "adamw")
