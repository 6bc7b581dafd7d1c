flower_sweep = st.sweep(X, Y, "the flower")
st.show(flower_sweep)
