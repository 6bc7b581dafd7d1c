flower_sweep = st.flower_sweep()
st.show(flower_sweep)
