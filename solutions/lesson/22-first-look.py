lt.first_look(initialize_parameters, forward, X, Y)
