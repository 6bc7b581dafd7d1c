lt.plot_hidden_weights(runs, inits=("random", "large"))
