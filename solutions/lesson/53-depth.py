depth = st.depth_study()
st.show(depth)
st.plot_depth(depth)
