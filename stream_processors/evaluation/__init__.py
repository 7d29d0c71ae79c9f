"""Detection-quality scoring: the NAB standard score and the simulated fault-suite figures."""
