spreads = st.depth_study()
for name, row in spreads.items():
    print(f"{name:>22}: layer 1 {row[0]:.2g}, layer 5 {row[4]:.2g}, layer 10 {row[-1]:.2g}")
st.plot_depth(spreads)
