finals = lt.compare_seeds(initialize_parameters, forward, backward, X, Y)
