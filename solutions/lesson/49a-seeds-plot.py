st.plot_sweep(flower_sweep)
