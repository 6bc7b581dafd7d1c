lt.plot_hidden_weights(runs, inits=("zeros", "copies", "random"))
