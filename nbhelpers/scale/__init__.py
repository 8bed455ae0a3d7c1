"""Scale: what a training step's time goes to, the data-parallel script, and the fastest recipe's parts."""
