wide_layer = st.wide_layer_sweep()
st.show(wide_layer)
st.plot_cuts(flower_sweep, wide_layer)
