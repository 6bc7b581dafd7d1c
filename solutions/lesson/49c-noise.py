noise_sweep = st.noise_sweep()
st.show(noise_sweep)
st.plot_sweep(noise_sweep)
