symmetry = st.symmetry_study(X, Y)
st.show(symmetry)
st.plot_symmetry(symmetry)
