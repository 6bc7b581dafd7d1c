lt.plot_costs(runs, inits=("random", "zeros", "large"))
