X20, Y20 = st.flower_with_noise()
wide_sweep = st.sweep(X20, Y20, "the flower with 18 noise inputs")
st.show(wide_sweep)
st.plot_sweep(wide_sweep)
