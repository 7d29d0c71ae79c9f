"""farmstream's command-line entry point and local stack: the one place that wires the stages together."""
