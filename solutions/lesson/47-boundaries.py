lt.plot_boundaries(runs, X, Y, inits=("random", "zeros", "large"))
