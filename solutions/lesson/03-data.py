X, Y = lt.make_flower()
print("X:", X.shape, " Y:", Y.shape, " share of y = 1:", Y.mean())
lt.plot_flower(X, Y)
