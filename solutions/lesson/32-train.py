runs = lt.compare_inits(initialize_parameters, forward, backward, X, Y,
                        inits=("zeros", "copies", "random", "large"))
