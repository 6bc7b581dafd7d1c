mixed_sweep = st.mixed_sweep()
st.show(mixed_sweep)
