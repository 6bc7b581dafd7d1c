lt.plot_saturation(runs)
