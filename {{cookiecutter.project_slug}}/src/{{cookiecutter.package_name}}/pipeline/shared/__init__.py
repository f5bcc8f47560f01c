"""What the pipeline's stages (and delivery) share: reading data, the encoding, models, metrics, the gate, chance."""
